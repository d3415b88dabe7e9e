package render

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// LiteralInliner is implemented by dialects whose engine client cannot bind
// parameters (Spark Connect's Go client sends SQL text only; Flink's SQL
// Gateway accepts statements, not parameters). The renderer then writes
// each literal into the SQL through InlineLiteral, which must produce text
// the engine reads back as exactly that value, whatever it holds.
type LiteralInliner interface {
	// InlineLiteral returns v (int64, float64, string or bool) as SQL text.
	InlineLiteral(v any) (string, error)
}

// Postgres is the PostgreSQL dialect: "double-quoted" identifiers with ""
// escaping and $n placeholders.
type Postgres struct{}

var _ Dialect = Postgres{}

// Name implements Dialect.
func (Postgres) Name() string { return "postgres" }

// QuoteIdent implements Dialect.
func (Postgres) QuoteIdent(name string) string { return DuckDB{}.QuoteIdent(name) }

// Placeholder implements Dialect.
func (Postgres) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

// MySQL is the MySQL / MariaDB dialect: `backquoted` identifiers with “
// escaping (valid whatever sql_mode says: ANSI_QUOTES changes what "..."
// means, never `...`) and ? placeholders.
type MySQL struct{}

var _ Dialect = MySQL{}

// Name implements Dialect.
func (MySQL) Name() string { return "mysql" }

// QuoteIdent implements Dialect.
func (MySQL) QuoteIdent(name string) string { return backquote(name) }

// Placeholder implements Dialect.
func (MySQL) Placeholder(int) string { return "?" }

// Spark is the Spark SQL dialect: `backquoted` identifiers and literals
// written inline (see LiteralInliner), because the Spark Connect Go client
// (SparkSession.Sql) takes SQL text without arguments.
//
// Spark string literals are the hard part: whether a backslash escapes
// depends on spark.sql.parser.escapedStringLiterals, and adjacent literals
// concatenate ('a”b' is "ab", not "a'b"). So a string holding a quote, a
// backslash or a control character is written as concat() of plain pieces
// and chr(n) for each such character, which reads the same under every
// parser setting. A dollar sign is written as chr(36) too: with
// spark.sql.variable.substitute on (the default) Spark replaces ${var} and
// ${env:X} anywhere in the SQL text, string literals included, before it
// parses, so no "${" may ever reach it. (Names cannot be rewritten that way;
// a site agent refuses a sub-plan with "${" in a name.)
type Spark struct{}

var (
	_ Dialect        = Spark{}
	_ LiteralInliner = Spark{}
)

// Name implements Dialect.
func (Spark) Name() string { return "spark" }

// QuoteIdent implements Dialect.
func (Spark) QuoteIdent(name string) string { return backquote(name) }

// Placeholder implements Dialect; Spark never uses it (literals are inline).
func (Spark) Placeholder(int) string { return "?" }

// InlineLiteral implements LiteralInliner.
func (Spark) InlineLiteral(v any) (string, error) {
	if s, ok := v.(string); ok {
		return sparkString(s)
	}
	return inlineScalar(v)
}

// Flink is the Flink SQL dialect: `backquoted` identifiers and literals
// written inline (see LiteralInliner), because statements reach Flink's SQL
// Gateway as text. Flink (Calcite) string literals are standard SQL: a
// quote is doubled and a backslash is an ordinary character.
type Flink struct{}

var (
	_ Dialect        = Flink{}
	_ LiteralInliner = Flink{}
)

// Name implements Dialect.
func (Flink) Name() string { return "flink" }

// QuoteIdent implements Dialect.
func (Flink) QuoteIdent(name string) string { return backquote(name) }

// Placeholder implements Dialect; Flink never uses it (literals are inline).
func (Flink) Placeholder(int) string { return "?" }

// InlineLiteral implements LiteralInliner.
func (Flink) InlineLiteral(v any) (string, error) {
	if s, ok := v.(string); ok {
		if err := checkInlineString(s); err != nil {
			return "", err
		}
		return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
	}
	return inlineScalar(v)
}

func backquote(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

func checkInlineString(s string) error {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return errors.New("string literal is not UTF-8 or contains NUL")
	}
	return nil
}

// sparkString writes s so that no quote, backslash or dollar sign appears
// inside a Spark string literal.
func sparkString(s string) (string, error) {
	if err := checkInlineString(s); err != nil {
		return "", err
	}
	special := func(r rune) bool { return r == '\'' || r == '\\' || r == '$' || r < 0x20 || r == 0x7f }
	if strings.IndexFunc(s, special) < 0 {
		return "'" + s + "'", nil
	}
	var parts []string
	var cur strings.Builder
	for _, r := range s {
		if special(r) {
			if cur.Len() > 0 {
				parts = append(parts, "'"+cur.String()+"'")
				cur.Reset()
			}
			parts = append(parts, "chr("+strconv.Itoa(int(r))+")")
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		parts = append(parts, "'"+cur.String()+"'")
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return "concat(" + strings.Join(parts, ", ") + ")", nil
}

// inlineScalar writes a non-string literal. Integers are BIGINT (the
// parenthesised CAST keeps -9223372036854775808 and negative numbers out of
// any operator-precedence question); floats are DOUBLE in scientific
// notation, which Spark and Flink both read as DOUBLE, not DECIMAL.
func inlineScalar(v any) (string, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return "TRUE", nil
		}
		return "FALSE", nil
	case int64:
		return "CAST(" + strconv.FormatInt(x, 10) + " AS BIGINT)", nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("float literal %v cannot be written inline", x)
		}
		return "CAST(" + strconv.FormatFloat(x, 'E', -1, 64) + " AS DOUBLE)", nil
	default:
		return "", fmt.Errorf("literal of type %T cannot be written inline", v)
	}
}
