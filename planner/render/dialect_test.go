package render

import (
	"strings"
	"testing"
)

func TestDialectByName(t *testing.T) {
	t.Parallel()
	d, err := DialectByName("duckdb")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ got, want string }{
		{d.Name(), "duckdb"},
		{d.QuoteIdent("amount"), `"amount"`},
		{d.QuoteIdent(`we"ird`), `"we""ird"`},
		{d.QuoteIdent(`a" ; DROP TABLE x; --`), `"a"" ; DROP TABLE x; --"`},
		{d.Placeholder(1), "$1"},
		{d.Placeholder(12), "$12"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
	if _, err := DialectByName("oracle"); err == nil || !strings.Contains(err.Error(), `"oracle"`) || !strings.Contains(err.Error(), "duckdb") {
		t.Errorf("DialectByName(oracle) error = %v, want it to name the dialect and the known ones", err)
	}
}
