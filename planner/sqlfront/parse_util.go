package sqlfront

import (
	"strings"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fedmesh/fedmesh/planner"
)

// pos converts a 0-based byte offset reported by the parser into the 1-based
// character position of Error.Pos; an unknown location (-1) becomes 0.
func (p *parser) pos(loc int32) int {
	if loc < 0 || int(loc) > len(p.sql) {
		return 0
	}
	return utf8.RuneCountInString(p.sql[:loc]) + 1
}

// refuse builds the *Error for an unsupported or invalid construct at loc.
func (p *parser) refuse(loc int32, construct, msg, hint string) *planner.Error {
	return &planner.Error{Pos: p.pos(loc), Construct: construct, Msg: msg, Hint: hint}
}

// nodeLoc returns the location of the message inside n, or -1 when that node
// type records none.
func nodeLoc(n *pg_query.Node) int32 {
	inner := innerMessage(n)
	if inner == nil {
		return -1
	}
	f := inner.Descriptor().Fields().ByName("location")
	if f == nil || f.Kind() != protoreflect.Int32Kind {
		return -1
	}
	return int32(inner.Get(f).Int())
}

func innerMessage(n *pg_query.Node) protoreflect.Message {
	if n == nil {
		return nil
	}
	m := n.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("node"))
	if fd == nil || fd.Kind() != protoreflect.MessageKind {
		return nil
	}
	return m.Get(fd).Message()
}

// constructNames gives user-facing names to parse-tree node types that the
// planner refuses wherever they appear.
var constructNames = map[string]string{
	"A_ArrayExpr":           "array constructor",
	"A_Indirection":         "subscript or field selection",
	"BooleanTest":           "IS TRUE/IS FALSE test",
	"CaseExpr":              "CASE expression",
	"CoalesceExpr":          "COALESCE",
	"CollateClause":         "COLLATE",
	"GroupingFunc":          "GROUPING()",
	"GroupingSet":           "grouping sets (ROLLUP, CUBE, GROUPING SETS)",
	"MinMaxExpr":            "GREATEST/LEAST",
	"NullIfExpr":            "NULLIF",
	"ParamRef":              "query parameter",
	"RowExpr":               "row constructor",
	"SQLValueFunction":      "SQL value function",
	"SubLink":               "subquery",
	"TypeCast":              "type cast",
	"XmlExpr":               "XML expression",
	"JsonFuncExpr":          "JSON function",
	"JsonObjectConstructor": "JSON constructor",
	"JsonArrayConstructor":  "JSON constructor",
}

// constructName names the node type of n for an error message.
func constructName(n *pg_query.Node) string {
	inner := innerMessage(n)
	if inner == nil {
		return "expression"
	}
	name := string(inner.Descriptor().Name())
	if c, ok := constructNames[name]; ok {
		return c
	}
	return strings.ToLower(name)
}

// tokenPos returns the byte offset of the first token of one of the given
// kinds, or -1. Some constructs (DISTINCT, UNION, JOIN) carry no location in
// the parse tree, so their position comes from the scanner.
func (p *parser) tokenPos(kinds ...pg_query.Token) int32 {
	if p.tokens == nil {
		res, err := pg_query.Scan(p.sql)
		if err != nil || res == nil {
			return -1
		}
		p.tokens = res.Tokens
	}
	for _, t := range p.tokens {
		for _, k := range kinds {
			if t.Token == k {
				return t.Start
			}
		}
	}
	return -1
}

// tokenAfter returns the byte offset of the first token of kind k that
// directly follows a token of kind prev, or -1.
func (p *parser) tokenAfter(prev, k pg_query.Token) int32 {
	if p.tokenPos(prev) < 0 {
		return -1
	}
	for i := 1; i < len(p.tokens); i++ {
		if p.tokens[i-1].Token == prev && p.tokens[i].Token == k {
			return p.tokens[i].Start
		}
	}
	return -1
}

// skipSpace moves a statement offset past leading blanks so that an error
// points at the statement's first word.
func (p *parser) skipSpace(loc int32) int32 {
	for int(loc) < len(p.sql) && strings.ContainsRune(" \t\r\n\f", rune(p.sql[loc])) {
		loc++
	}
	return loc
}
