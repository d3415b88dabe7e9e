package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestReadyz: a coordinator whose sites all answered reports ready with
// every site's catalog known.
func TestReadyz(t *testing.T) {
	t.Parallel()
	fed := startFederation(t, fedOptions{})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(fed.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Ready bool              `json:"ready"`
			Sites map[string]string `json:"sites"`
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		all := len(r.Sites) == len(sites3)
		for _, s := range sites3 {
			all = all && r.Sites[s] == "known"
		}
		if resp.StatusCode == http.StatusOK && r.Ready && all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %+v, want 200 with every site known", resp.StatusCode, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
