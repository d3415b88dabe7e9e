package sqlfront

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/fedmesh/fedmesh/planner"
	"github.com/fedmesh/fedmesh/planner/internal/plantest"
	"github.com/fedmesh/fedmesh/planner/render"
)

// FuzzParsePlanRender checks that no input makes the planner panic, that
// every refusal is a positioned *Error, that every accepted query renders,
// and that rendered SQL never carries a string literal of the input: it
// holds no quote outside quoted identifiers, so literals can only be args.
func FuzzParsePlanRender(f *testing.F) {
	for _, tc := range acceptedQueries {
		f.Add(tc.sql)
	}
	for _, tc := range refusedQueries {
		f.Add(tc.sql)
	}
	for _, tc := range plantest.RenderCases {
		f.Add(tc.SQL)
	}
	f.Add(`SELECT region, count(*) FROM sales WHERE region = '''; DROP TABLE sales; --' GROUP BY region`)
	f.Add(`SELECT * FROM sales WHERE note = E'\x27 OR 1=1' OR note = $$'x'$$`)
	f.Add(`SELECT date_trunc('month', day) AS m, count(*) FROM orders GROUP BY 1`)
	f.Add(`SELECT c.segment, sum(s.amount) FROM sales s LEFT JOIN customers c ON s.id = c.id AND s._site = c._site GROUP BY c.segment`)
	f.Add(`SELECT region, COUNT(DISTINCT customer_id), approx_count_distinct(lower) FROM sales WHERE x = 'it''s' GROUP BY region HAVING COUNT(DISTINCT customer_id) > 1`)
	f.Add(`SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY amount DESC), approx_quantile(CASE WHEN a > 1 THEN a END, 1) FROM sales`)
	f.Add(`SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY amount), sum(DISTINCT amount) FROM sales`)
	f.Fuzz(func(t *testing.T, sql string) {
		q, err := Parse(sql)
		if err != nil {
			var pe *planner.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T %v, want *planner.Error", sql, err, err)
			}
			if pe.Pos < 0 || pe.Pos > utf8.RuneCountInString(sql)+1 {
				t.Fatalf("Parse(%q) position %d outside the text", sql, pe.Pos)
			}
			return
		}
		sp := planner.Split(q, []string{"site"}, plantest.Meta())[0]
		for _, d := range []render.Dialect{render.DuckDB{}, render.Postgres{}, render.MySQL{}} {
			out, _, err := render.Render(sp, d)
			if err != nil {
				if errors.Is(err, render.ErrNoCast) || errors.Is(err, render.ErrNoDateTrunc) {
					continue // e.g. MySQL has no CAST to boolean: refused, not mis-rendered
				}
				t.Fatalf("Parse accepted %q but Render (%s) failed: %v", sql, d.Name(), err)
			}
			quote := byte('"')
			if d.Name() == "mysql" {
				quote = '`'
			}
			bare := stripQuotedIdents(t, out, quote)
			if strings.Contains(bare, "'") {
				t.Fatalf("rendered SQL (%s) has a quote outside identifiers: %s", d.Name(), out)
			}
			for _, lit := range stringLiterals(sql) {
				if strings.Contains(bare, lit) {
					t.Fatalf("rendered SQL (%s) contains input literal %s: %s", d.Name(), lit, out)
				}
			}
		}
		// Spark and Flink write literals inline: every quoted span must be a
		// plain literal (Spark: no quote or backslash inside; Flink: quotes
		// doubled), and the text must still hold no statement separator
		// outside literals and identifiers.
		for _, d := range []render.Dialect{render.Spark{}, render.Flink{}} {
			out, _, err := render.Render(sp, d)
			if err != nil {
				if errors.Is(err, render.ErrNoCast) || errors.Is(err, render.ErrNoDateTrunc) {
					continue
				}
				t.Fatalf("Parse accepted %q but Render (%s) failed: %v", sql, d.Name(), err)
			}
			// One pass over both kinds of span: a literal may hold a
			// backtick and an identifier a quote.
			bare := stripSpans(t, out, "`'", "'")
			if d.Name() == "spark" && strings.Contains(bare, "\\") {
				t.Fatalf("rendered Spark SQL has a backslash outside identifiers: %s", out)
			}
			if strings.Contains(stripSpans(t, out, "`'", ""), ";") {
				t.Fatalf("rendered SQL (%s) has ; outside literals: %s", d.Name(), out)
			}
		}
	})
}

// stripQuotedIdents removes quoted spans (quote doubled to escape) from
// rendered SQL, failing on an unterminated one.
func stripQuotedIdents(t *testing.T, sql string, quote byte) string {
	var b strings.Builder
	in := false
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case !in && c == quote:
			in = true
		case in && c == quote && i+1 < len(sql) && sql[i+1] == quote:
			i++
		case in && c == quote:
			in = false
		case !in:
			b.WriteByte(c)
		}
	}
	if in {
		t.Fatalf("unterminated quoted identifier in %s", sql)
	}
	return b.String()
}

// stripSpans removes the quoted spans opened by any byte of quotes (the
// quote doubled to escape), keeping the text of those whose quote is in
// keep, in one pass; it fails on an unterminated span.
func stripSpans(t *testing.T, sql, quotes, keep string) string {
	var b strings.Builder
	var open byte
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case open == 0 && strings.IndexByte(quotes, c) >= 0:
			open = c
		case open != 0 && c == open && i+1 < len(sql) && sql[i+1] == open:
			i++
			if strings.IndexByte(keep, open) >= 0 {
				b.WriteByte(c)
			}
		case open != 0 && c == open:
			open = 0
		case open == 0 || strings.IndexByte(keep, open) >= 0:
			b.WriteByte(c)
		}
	}
	if open != 0 {
		t.Fatalf("unterminated %c span in %s", open, sql)
	}
	return b.String()
}

// stringLiterals returns the raw text of every string constant in sql.
func stringLiterals(sql string) []string {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil
	}
	var out []string
	for _, tok := range res.Tokens {
		switch tok.Token {
		case pg_query.Token_SCONST, pg_query.Token_USCONST, pg_query.Token_BCONST, pg_query.Token_XCONST:
			if int(tok.End) <= len(sql) && tok.Start < tok.End {
				out = append(out, sql[tok.Start:tok.End])
			}
		}
	}
	return out
}
