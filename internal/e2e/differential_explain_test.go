package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestExplainShowsPlanWithoutRunning asks POST /v1/explain for a query and
// checks the answer shows each participating site's rendered SQL and the
// merge, and that no site audited anything (nothing ran).
func TestExplainShowsPlanWithoutRunning(t *testing.T) {
	fed := startFederation(t, fedOptions{minGroupSize: 1})
	body, _ := json.Marshal(map[string]string{"sql": "SELECT region, STDDEV_SAMP(amount) FROM sales WHERE _site IN ('a', 'b') AND status LIKE 'p%' GROUP BY region ORDER BY 2 DESC LIMIT 2"})
	req, _ := http.NewRequest(http.MethodPost, fed.url+"/v1/explain", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+fed.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, raw)
	}
	var ex struct {
		Sites []struct {
			Site, Dialect, SQL string
			Args               []any
		} `json:"sites"`
		Skipped   []string `json:"skipped"`
		MergeText []string `json:"merge_text"`
	}
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Sites) != 2 || ex.Sites[0].Site != "a" || ex.Sites[1].Site != "b" || len(ex.Skipped) != 1 || ex.Skipped[0] != "c" {
		t.Fatalf("sites %+v, skipped %v; want a and b explained, c skipped", ex.Sites, ex.Skipped)
	}
	for _, s := range ex.Sites {
		if s.Dialect != "duckdb" || !strings.Contains(s.SQL, `var_pop(CAST("amount" AS DOUBLE))`) || !strings.Contains(s.SQL, `LIKE $`) {
			t.Errorf("site %s: %s SQL %s", s.Site, s.Dialect, s.SQL)
		}
	}
	if m := strings.Join(ex.MergeText, "\n"); !strings.Contains(m, "stddev_samp (Chan)") || !strings.Contains(m, "LIMIT 2") {
		t.Errorf("merge text:\n%s", m)
	}
	for name, path := range fed.audits {
		for _, r := range readRecords(t, path) {
			if r.QueryID != "" {
				t.Errorf("%s audited query %s during EXPLAIN: a sub-plan ran", name, r.QueryID)
			}
		}
	}
}
