package sqlfront

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/fedmesh/fedmesh/planner"
)

// joinSource is what the parser knows about a FROM clause with a join.
type joinSource struct {
	left, right   string // logical table names
	leftQ, rightQ string // their qualifiers (alias or name)
	using         map[string]bool
}

// fromJoin accepts "a [AS x] [INNER|LEFT] JOIN b [AS y] USING (k, ...)" or
// "... ON x.k = y.k [AND ...]" of two plain tables.
func (p *parser) fromJoin(je *pg_query.JoinExpr) error {
	loc := p.tokenPos(pg_query.Token_JOIN)
	kind := planner.JoinInner
	switch je.Jointype {
	case pg_query.JoinType_JOIN_INNER:
	case pg_query.JoinType_JOIN_LEFT:
		kind = planner.JoinLeft
	default:
		return p.refuse(loc, "join ("+strings.TrimPrefix(je.Jointype.String(), "JOIN_")+")",
			"only INNER and LEFT joins of two tables are supported", "write [INNER] JOIN or LEFT JOIN")
	}
	if je.IsNatural {
		return p.refuse(loc, "NATURAL JOIN", "NATURAL JOIN is not supported: the planner cannot see which columns the tables share", "write JOIN ... USING (column)")
	}
	if je.Alias != nil || je.JoinUsingAlias != nil {
		return p.refuse(loc, "join alias", "aliasing a join is not supported", "qualify columns with the tables' own aliases")
	}
	left, lq, err := p.joinTable(je.Larg)
	if err != nil {
		return err
	}
	right, rq, err := p.joinTable(je.Rarg)
	if err != nil {
		return err
	}
	if left == right || lq == rq {
		return p.refuse(loc, "self-join", "a table joined with itself is not supported", "aggregate the table in one query")
	}
	js := &joinSource{left: left, right: right, leftQ: lq, rightQ: rq, using: map[string]bool{}}
	j := &planner.Join{Table: right, Kind: kind}
	for _, u := range je.UsingClause {
		name := u.GetString_().GetSval()
		if name == "" || name == planner.SiteColumn {
			return p.refuse(loc, "USING column", "USING lists table columns only", "name the join key columns")
		}
		js.using[name] = true
		j.Keys = append(j.Keys, planner.JoinKey{Left: name, Right: name})
	}
	if je.Quals != nil {
		keys, err := p.joinOn(je.Quals, js)
		if err != nil {
			return err
		}
		j.Keys = append(j.Keys, keys...)
	}
	if len(j.Keys) == 0 {
		return p.refuse(loc, "join without keys", "a join needs an equality between columns of the two tables",
			"write JOIN ... USING (key) or ON a.key = b.key")
	}
	p.table, p.qualifier, p.join, p.joinPlan = left, lq, js, j
	return nil
}

func (p *parser) joinTable(n *pg_query.Node) (table, qualifier string, err error) {
	rv := n.GetRangeVar()
	if rv == nil {
		if _, ok := n.Node.(*pg_query.Node_JoinExpr); ok {
			return "", "", p.refuse(p.tokenPos(pg_query.Token_JOIN), "join of more than two tables", "a join of more than two tables is not supported yet", "join two tables per query")
		}
		return "", "", p.refuse(nodeLoc(n), constructName(n), "only plain tables can be joined", "join two federated tables")
	}
	if rv.Schemaname != "" || rv.Catalogname != "" {
		return "", "", p.refuse(rv.Location, "qualified table name", "schema-qualified table names are not supported", "name the federated table without a schema")
	}
	qualifier = rv.Relname
	if rv.Alias != nil {
		if len(rv.Alias.Colnames) > 0 {
			return "", "", p.refuse(rv.Location, "column alias list", "renaming the table's columns is not supported", "alias columns in the select list")
		}
		qualifier = rv.Alias.Aliasname
	}
	return rv.Relname, qualifier, nil
}

// crossSite explains why a join condition beyond column equalities is
// refused: each site joins only its own rows.
const crossSite = "each site joins only its own rows; a condition relating rows of different sites (or anything but column equalities) would need raw rows to leave a site"

// joinOn reads an ON condition: equalities of a left and a right column,
// joined by AND. "x._site = y._site" holds at every site and is dropped.
func (p *parser) joinOn(n *pg_query.Node, js *joinSource) ([]planner.JoinKey, error) {
	if b := n.GetBoolExpr(); b != nil && b.Boolop == pg_query.BoolExprType_AND_EXPR {
		var keys []planner.JoinKey
		for _, a := range b.Args {
			k, err := p.joinOn(a, js)
			if err != nil {
				return nil, err
			}
			keys = append(keys, k...)
		}
		return keys, nil
	}
	ae := n.GetAExpr()
	if ae == nil || ae.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(ae.Name) != 1 || ae.Name[0].GetString_().GetSval() != "=" ||
		ae.Lexpr.GetColumnRef() == nil || ae.Rexpr.GetColumnRef() == nil {
		return nil, p.refuse(nodeLoc(n), "join condition", "only equalities between a column of each table (AND-ed) are supported in ON: "+crossSite,
			"write ON a.key = b.key [AND a.k2 = b.k2]; filter in WHERE")
	}
	lt, lc, err := p.joinRef(ae.Lexpr.GetColumnRef(), js)
	if err != nil {
		return nil, err
	}
	rt, rc, err := p.joinRef(ae.Rexpr.GetColumnRef(), js)
	if err != nil {
		return nil, err
	}
	if lc == planner.SiteColumn || rc == planner.SiteColumn {
		if lc == planner.SiteColumn && rc == planner.SiteColumn && lt != rt {
			return nil, nil // always true: both rows are at the same site
		}
		return nil, p.refuse(ae.Location, "_site in a join condition", crossSite, "join on _site equality or not at all; filter _site in WHERE")
	}
	switch {
	case lt == js.left && rt == js.right:
		return []planner.JoinKey{{Left: lc, Right: rc}}, nil
	case lt == js.right && rt == js.left:
		return []planner.JoinKey{{Left: rc, Right: lc}}, nil
	default:
		return nil, p.refuse(ae.Location, "join condition", "each equality in ON must relate a column of each table", "write ON a.key = b.key")
	}
}

// joinRef resolves a qualified column reference of an ON condition to its
// table and column.
func (p *parser) joinRef(cr *pg_query.ColumnRef, js *joinSource) (table, column string, err error) {
	var parts []string
	for _, f := range cr.Fields {
		parts = append(parts, f.GetString_().GetSval())
	}
	if len(parts) != 2 || parts[1] == "" {
		return "", "", p.refuse(cr.Location, "unqualified column in ON", "columns in ON must be qualified with their table",
			fmt.Sprintf("write %s.column or %s.column", js.leftQ, js.rightQ))
	}
	switch parts[0] {
	case js.leftQ:
		return js.left, parts[1], nil
	case js.rightQ:
		return js.right, parts[1], nil
	}
	return "", "", p.refuse(cr.Location, fmt.Sprintf("table %q", parts[0]), fmt.Sprintf("missing FROM-clause entry for table %q", parts[0]),
		fmt.Sprintf("qualify columns with %q or %q", js.leftQ, js.rightQ))
}

// joinColumn resolves a column reference of a join query to its qualified
// plan name. Unqualified names are accepted for USING columns (the left
// table's) and _site; anything else must name its table, since the
// coordinator does not know which table holds which column.
func (p *parser) joinColumn(parts []string, loc int32) (string, error) {
	js := p.join
	switch len(parts) {
	case 1:
		switch {
		case parts[0] == planner.SiteColumn:
			return planner.SiteColumn, nil
		case js.using[parts[0]]:
			return planner.QualifiedColumn(js.left, parts[0]), nil
		}
		return "", p.refuse(loc, fmt.Sprintf("column %q", parts[0]), "columns of a join must be qualified with their table",
			fmt.Sprintf("write %s.%s or %s.%s", js.leftQ, parts[0], js.rightQ, parts[0]))
	case 2:
		if parts[1] == planner.SiteColumn {
			return planner.SiteColumn, nil
		}
		if strings.Contains(parts[1], ".") {
			return "", p.refuse(loc, fmt.Sprintf("column %q", parts[1]), "column names containing a dot cannot be joined on", "rename the column in the site's catalog")
		}
		switch parts[0] {
		case js.leftQ:
			return planner.QualifiedColumn(js.left, parts[1]), nil
		case js.rightQ:
			return planner.QualifiedColumn(js.right, parts[1]), nil
		}
		return "", p.refuse(loc, fmt.Sprintf("table %q", parts[0]), fmt.Sprintf("missing FROM-clause entry for table %q", parts[0]),
			fmt.Sprintf("qualify columns with %q or %q", js.leftQ, js.rightQ))
	default:
		return "", p.refuse(loc, "qualified column name", "column names may have at most one qualifier", "write table.column")
	}
}

// CheckJoinSites refuses a join query when a participating site holds one
// of the joined tables but not the other: its rows could only be joined
// with another site's, which would move raw rows. (A site holding neither
// simply does not take part.)
func CheckJoinSites(q *planner.Query, sites []string, has func(site, table string) bool) error {
	if q.Join == nil || has == nil {
		return nil
	}
	for _, s := range planner.Participants(q, sites) {
		l, r := has(s, q.Table), has(s, q.Join.Table)
		if l != r {
			missing := q.Join.Table
			if !l {
				missing = q.Table
			}
			return &planner.Error{Construct: "join", Msg: fmt.Sprintf("site %q holds %s but not %s: %s", s, map[bool]string{true: q.Table, false: q.Join.Table}[l], missing, crossSite),
				Hint: fmt.Sprintf("leave site %s out with WHERE _site <> '%s', or query each table on its own", s, s)}
		}
	}
	return nil
}
