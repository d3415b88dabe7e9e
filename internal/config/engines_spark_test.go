package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadAgentSparkEngine(t *testing.T) {
	t.Parallel()
	c, err := LoadAgent(writeFile(t, agentBase+`engine: {type: spark, dsn: "sc://127.0.0.1:15002"}
tables: [{name: sales, format: parquet, path: sales.parquet}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.SiteEngines()[0]; got.Type != EngineSpark || got.DSN != "sc://127.0.0.1:15002" {
		t.Errorf("engine = %+v", got)
	}
	for _, tc := range []struct{ body, want string }{
		{`engine: {type: spark, dsn: "http://127.0.0.1:15002"}`, "engine.dsn"},
		{`engine: {type: spark}`, "engine.dsn"},
		{`engine: {type: spark, dsn: "sc://h:1", password: p}`, "engine.password"},
		{`engine: {type: spark, dsn: "sc://h:1", max_conns: 3}`, "engine.password"},
	} {
		_, err := LoadAgent(writeFile(t, agentBase+tc.body))
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: err = %v, want *ValidationError", tc.body, err)
		}
		var paths []string
		for _, pr := range ve.Problems {
			paths = append(paths, pr[:strings.Index(pr, ":")])
		}
		if diff := cmp.Diff([]string{tc.want}, paths); diff != "" {
			t.Errorf("%s: problem paths (-want +got):\n%s\nall: %v", tc.body, diff, ve.Problems)
		}
	}
}
