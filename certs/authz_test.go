package certs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

func TestAllowMatch(t *testing.T) {
	t.Parallel()
	allow, err := ParseAllow(
		"spiffe://dept-a.example/coordinator",
		"spiffe://hq.example/fedmesh/*",
		"spiffe://partner.example/*",
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id   string
		want bool
	}{
		{"spiffe://dept-a.example/coordinator", true},
		{"spiffe://dept-a.example/coordinator/x", false}, // exact means exact
		{"spiffe://dept-a.example/site/a", false},
		{"spiffe://hq.example/fedmesh", true},
		{"spiffe://hq.example/fedmesh/coordinator-eu", true},
		{"spiffe://hq.example/fedmesh/eu/coordinator", true},
		{"spiffe://hq.example/fedmeshx/coordinator", false}, // segment-wise prefix
		{"spiffe://hq.example/coordinator", false},
		{"spiffe://evil.example/fedmesh/coordinator", false}, // right path, wrong trust domain
		{"spiffe://partner.example/anything/at/all", true},
	}
	for _, tt := range tests {
		if got := allow.Match(spiffeid.RequireFromString(tt.id)); got != tt.want {
			t.Errorf("Match(%s) = %t, want %t", tt.id, got, tt.want)
		}
	}
	err = allow.Authorize(spiffeid.RequireFromString("spiffe://dept-a.example/site/a"), nil)
	want := `unexpected ID "spiffe://dept-a.example/site/a" (allowed: spiffe://dept-a.example/coordinator, spiffe://hq.example/fedmesh/*, spiffe://partner.example/*)`
	if err == nil || err.Error() != want {
		t.Errorf("Authorize error = %v\nwant %s", err, want)
	}
	if (Allow{}).Match(spiffeid.RequireFromString("spiffe://dept-a.example/coordinator")) {
		t.Error("the zero Allow matched an ID")
	}
}

func TestParseAllowErrors(t *testing.T) {
	t.Parallel()
	_, err := ParseAllow("spiffe://ok.example/coordinator", "https://x/y", "spiffe://td.example", "spiffe://BAD/*")
	if err == nil {
		t.Fatal("no error")
	}
	var got []string
	for _, line := range strings.Split(err.Error(), "\n") {
		got = append(got, strings.SplitN(line, ":", 2)[0])
	}
	if diff := cmp.Diff([]string{`entry 1 "https`, `entry 2 "spiffe`, `entry 3 "spiffe`}, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s\nfull: %v", diff, err)
	}
}
