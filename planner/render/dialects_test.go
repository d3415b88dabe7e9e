package render

import (
	"strings"
	"testing"
)

func TestDialectQuotingAndPlaceholders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dialect          string
		ident, wantIdent string
		wantPH           string
	}{
		{"postgres", `we"ird`, `"we""ird"`, "$3"},
		{"postgresql", `a" ; DROP TABLE x; --`, `"a"" ; DROP TABLE x; --"`, "$3"},
		{"mysql", "we`ird", "`we``ird`", "?"},
		{"mariadb", `a" ; DROP`, "`a\" ; DROP`", "?"},
		{"spark", "a`b", "`a``b`", "?"},
		{"flink", "a`; DROP", "`a``; DROP`", "?"},
	}
	for _, tc := range tests {
		d, err := DialectByName(tc.dialect)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.QuoteIdent(tc.ident); got != tc.wantIdent {
			t.Errorf("%s QuoteIdent(%q) = %s, want %s", tc.dialect, tc.ident, got, tc.wantIdent)
		}
		if got := d.Placeholder(3); got != tc.wantPH {
			t.Errorf("%s Placeholder(3) = %s, want %s", tc.dialect, got, tc.wantPH)
		}
	}
}

func TestInlineLiterals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    LiteralInliner
		v    any
		want string
	}{
		{"spark plain", Spark{}, "north", `'north'`},
		{"spark quote", Spark{}, "it's", `concat('it', chr(39), 's')`},
		{"spark injection", Spark{}, `'; DROP TABLE t; --`, `concat(chr(39), '; DROP TABLE t; --')`},
		{"spark backslash escapes nothing", Spark{}, `a\'b`, `concat('a', chr(92), chr(39), 'b')`},
		{"spark newline", Spark{}, "a\nb", `concat('a', chr(10), 'b')`},
		{"spark only quote", Spark{}, "'", `chr(39)`},
		{"spark empty", Spark{}, "", `''`},
		{"spark unicode", Spark{}, "zürich", `'zürich'`},
		{"spark env variable not substituted", Spark{}, "${env:HOME}", `concat(chr(36), '{env:HOME}')`},
		{"spark variable mid-string", Spark{}, "a${x}b$", `concat('a', chr(36), '{x}b', chr(36))`},
		{"flink quote doubled", Flink{}, "it's", `'it''s'`},
		{"flink backslash literal", Flink{}, `a\'b`, `'a\''b'`},
		{"flink injection", Flink{}, `'; DROP TABLE t; --`, `'''; DROP TABLE t; --'`},
		{"int", Spark{}, int64(-9223372036854775808), `CAST(-9223372036854775808 AS BIGINT)`},
		{"float", Flink{}, 0.1, `CAST(1E-01 AS DOUBLE)`},
		{"bool", Flink{}, false, `FALSE`},
	}
	for _, tc := range tests {
		got, err := tc.d.InlineLiteral(tc.v)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: InlineLiteral(%#v) = %s, want %s", tc.name, tc.v, got, tc.want)
		}
	}
	for _, v := range []any{"nul\x00", "\xff", 1.0 / zero(), []byte("x")} {
		for _, d := range []LiteralInliner{Spark{}, Flink{}} {
			if got, err := d.InlineLiteral(v); err == nil {
				t.Errorf("%T InlineLiteral(%#v) = %s, want an error", d, v, got)
			}
		}
	}
}

func zero() float64 { return 0 }

// TestSparkStringLiteralsHoldNoEscapes checks the property the Spark
// rendering relies on: between the quotes of any rendered literal there is
// neither a quote nor a backslash, so parser settings cannot change it.
func TestSparkStringLiteralsHoldNoEscapes(t *testing.T) {
	t.Parallel()
	for _, s := range []string{`''`, `\\`, `\'`, `'\`, "a'b\\c'd", "\x01\x7f'", `\u0027`, "${env:HOME}", "$${x}}"} {
		got, err := Spark{}.InlineLiteral(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, lit := range quotedSpans(got) {
			if strings.ContainsAny(lit, `'\$`) {
				t.Errorf("Spark literal for %q has a quote, backslash or dollar inside quotes: %s", s, got)
			}
		}
	}
}

// quotedSpans returns the text between each pair of single quotes.
func quotedSpans(s string) []string {
	parts := strings.Split(s, "'")
	var out []string
	for i := 1; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	return out
}
