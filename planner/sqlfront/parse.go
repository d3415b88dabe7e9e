package sqlfront

import (
	"errors"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/fedmesh/fedmesh/planner"
)

// parser holds the state of one Parse call.
type parser struct {
	sql    string
	tokens []*pg_query.ScanToken // scanned lazily, only to locate refusals

	table     string
	qualifier string      // the alias, else the table name, accepted before a column
	join      *joinSource // set for a FROM clause with a join
	joinPlan  *planner.Join

	q        *planner.Query
	keys     []string          // group key columns; key i is partial "g<i>"
	partials map[string]string // canonical partial → its name
	merges   map[string]string // canonical merge aggregate → its name
	projs    map[string]string // canonical projection → its name (KindRows)
}

// Parse turns one analyst SELECT statement into the logical plan of a
// federated query. It accepts a deliberately small subset of SQL (see
// doc.go); anything else is refused with an *Error that names the construct,
// its position and what to write instead. Parse never returns SQL text in
// the plan: the plan is structure only.
func Parse(sql string) (*planner.Query, error) {
	p := &parser{sql: sql, partials: map[string]string{}, merges: map[string]string{}, projs: map[string]string{}}
	sel, err := p.statement()
	if err != nil {
		return nil, err
	}
	if err := p.selectStmt(sel); err != nil {
		return nil, err
	}
	return p.q, nil
}

// statement parses the text and returns its only statement, a SELECT.
func (p *parser) statement() (*pg_query.SelectStmt, error) {
	tree, err := pg_query.Parse(p.sql)
	if err != nil {
		var pe *pgparser.Error
		if errors.As(err, &pe) {
			return nil, &planner.Error{Pos: pe.Cursorpos, Construct: "syntax", Msg: pe.Message, Hint: "check the SQL near this position"}
		}
		return nil, &planner.Error{Construct: "syntax", Msg: err.Error()}
	}
	switch len(tree.Stmts) {
	case 0:
		return nil, &planner.Error{Construct: "query", Msg: "the query is empty", Hint: "write one SELECT statement"}
	case 1:
	default:
		loc := p.skipSpace(tree.Stmts[1].StmtLocation)
		return nil, p.refuse(loc, "multiple statements", "only one statement is allowed per query", "send one SELECT statement")
	}
	raw := tree.Stmts[0]
	sel := raw.Stmt.GetSelectStmt()
	if sel == nil {
		kind := strings.TrimSuffix(constructName(raw.Stmt), "stmt")
		return nil, p.refuse(p.skipSpace(raw.StmtLocation), strings.ToUpper(kind)+" statement",
			"only SELECT statements are allowed", "write a SELECT query")
	}
	return sel, nil
}

// selectStmt checks the clauses of sel and builds the plan.
func (p *parser) selectStmt(sel *pg_query.SelectStmt) error {
	if err := p.refuseClauses(sel); err != nil {
		return err
	}
	if err := p.from(sel.FromClause); err != nil {
		return err
	}
	p.q = &planner.Query{Table: p.table, Join: p.joinPlan}
	if sel.WhereClause != nil {
		f, err := p.expr(sel.WhereClause, p.whereScope())
		if err != nil {
			return err
		}
		p.q.Filter = f
	}
	aggregate := len(sel.GroupClause) > 0 || sel.HavingClause != nil ||
		hasAggregate(sel.TargetList) || hasAggregate(sel.SortClause)
	var err error
	if aggregate {
		err = p.aggregateQuery(sel)
	} else {
		err = p.rowsQuery(sel)
	}
	if err != nil {
		return err
	}
	return p.limit(sel)
}

// refuseClauses rejects clauses the planner does not support, before any
// plan is built.
func (p *parser) refuseClauses(sel *pg_query.SelectStmt) error {
	switch {
	case sel.Op != pg_query.SetOperation_SETOP_NONE:
		loc := p.tokenPos(pg_query.Token_UNION, pg_query.Token_INTERSECT, pg_query.Token_EXCEPT)
		op := strings.TrimPrefix(sel.Op.String(), "SETOP_")
		return p.refuse(loc, "set operation ("+op+")", "set operations are not supported", "send each SELECT as its own query")
	case sel.WithClause != nil:
		return p.refuse(sel.WithClause.Location, "WITH clause (CTE)", "common table expressions are not supported", "query the table directly")
	case len(sel.ValuesLists) > 0:
		return p.refuse(p.tokenPos(pg_query.Token_VALUES), "VALUES", "VALUES lists are not supported", "query a federated table")
	case len(sel.DistinctClause) > 0:
		return p.refuse(p.tokenAfter(pg_query.Token_SELECT, pg_query.Token_DISTINCT), "DISTINCT", "SELECT DISTINCT is not yet supported", "use GROUP BY over the same columns")
	case sel.IntoClause != nil:
		return p.refuse(p.tokenPos(pg_query.Token_INTO), "SELECT INTO", "creating tables is not allowed", "remove INTO")
	case len(sel.WindowClause) > 0:
		return p.refuse(p.tokenPos(pg_query.Token_WINDOW), "WINDOW clause", "window functions are not supported", "aggregate with GROUP BY instead")
	case len(sel.LockingClause) > 0:
		return p.refuse(p.tokenPos(pg_query.Token_FOR), "locking clause", "FOR UPDATE/SHARE is not allowed", "remove the locking clause")
	case sel.GroupDistinct:
		return p.refuse(p.tokenAfter(pg_query.Token_BY, pg_query.Token_DISTINCT), "GROUP BY DISTINCT", "GROUP BY DISTINCT is not supported", "list each group key once")
	case sel.LimitOption == pg_query.LimitOption_LIMIT_OPTION_WITH_TIES:
		return p.refuse(p.tokenPos(pg_query.Token_TIES), "FETCH ... WITH TIES", "WITH TIES is not supported", "use LIMIT")
	}
	return nil
}

// from accepts exactly one plain table, optionally aliased.
func (p *parser) from(items []*pg_query.Node) error {
	if len(items) == 0 {
		return &planner.Error{Construct: "FROM clause", Msg: "a FROM clause naming one table is required", Hint: "add FROM <table>"}
	}
	if len(items) > 1 {
		return p.refuse(nodeLoc(items[1]), "join", joinRefusal, joinHint)
	}
	switch n := items[0].Node.(type) {
	case *pg_query.Node_RangeVar:
		rv := n.RangeVar
		if rv.Schemaname != "" || rv.Catalogname != "" {
			return p.refuse(rv.Location, "qualified table name", "schema-qualified table names are not supported", "name the federated table without a schema")
		}
		if !rv.Inh {
			return p.refuse(p.tokenPos(pg_query.Token_ONLY), "FROM ONLY", "ONLY is not supported", "remove ONLY")
		}
		p.table, p.qualifier = rv.Relname, rv.Relname
		if rv.Alias != nil {
			if len(rv.Alias.Colnames) > 0 {
				return p.refuse(rv.Location, "column alias list", "renaming the table's columns is not supported", "alias columns in the select list")
			}
			p.qualifier = rv.Alias.Aliasname
		}
		return nil
	case *pg_query.Node_JoinExpr:
		return p.fromJoin(n.JoinExpr)
	case *pg_query.Node_RangeSubselect:
		return p.refuse(p.subqueryPos(), "subquery", "subqueries in FROM are not supported", "query the table directly")
	case *pg_query.Node_RangeFunction:
		return p.refuse(p.tokenPos(pg_query.Token_FROM), "function in FROM", "table functions are not supported", "query a federated table")
	default:
		return p.refuse(nodeLoc(items[0]), constructName(items[0]), "only a plain table is allowed in FROM", "query a federated table")
	}
}

// Joins are refused until sub-plans can carry one: a join matches rows of
// two tables, and across sites that would mean moving raw rows, which
// fedmesh never does.
const (
	joinRefusal = "comma joins are not supported: each site joins its own rows locally, on explicit keys, and a join across sites would need raw rows to leave a site"
	joinHint    = "write a JOIN b USING (key) or a JOIN b ON a.key = b.key"
)

// subqueryPos locates the parenthesis opening the first nested SELECT.
func (p *parser) subqueryPos() int32 {
	if p.tokenPos(pg_query.Token_SELECT) < 0 {
		return -1
	}
	for i := 1; i < len(p.tokens); i++ {
		if p.tokens[i].Token == pg_query.Token_SELECT && p.tokens[i-1].Token == pg_query.Token_ASCII_40 {
			return p.tokens[i-1].Start
		}
	}
	return -1
}

// limit copies LIMIT and OFFSET, which must be non-negative integer literals.
func (p *parser) limit(sel *pg_query.SelectStmt) error {
	if sel.LimitCount != nil {
		n, set, err := p.count(sel.LimitCount, "LIMIT")
		if err != nil {
			return err
		}
		if set {
			p.q.Merge.Limit = &n
		}
	}
	if sel.LimitOffset != nil {
		n, _, err := p.count(sel.LimitOffset, "OFFSET")
		if err != nil {
			return err
		}
		p.q.Merge.Offset = n
	}
	return nil
}

// count reads the argument of LIMIT or OFFSET. LIMIT ALL and LIMIT NULL mean
// no limit (set is false).
func (p *parser) count(n *pg_query.Node, clause string) (v int64, set bool, err error) {
	c := n.GetAConst()
	if c == nil {
		return 0, false, p.refuse(nodeLoc(n), clause, clause+" must be an integer literal", "write "+clause+" 10")
	}
	if c.Isnull {
		return 0, false, nil
	}
	val, err := p.constant(c)
	if err != nil {
		return 0, false, err
	}
	if val.Kind != planner.KindInt {
		return 0, false, p.refuse(c.Location, clause, clause+" must be an integer literal", "write "+clause+" 10")
	}
	if val.Int < 0 {
		return 0, false, p.refuse(c.Location, clause, fmt.Sprintf("%s must not be negative", clause), "use 0 or a positive integer")
	}
	return val.Int, true, nil
}
