package policy

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/fedmesh/fedmesh/planner"
)

// TestSchemaOpsAreKnown keeps schema/input.v1.json's expression ops and the
// input builder's knownOp in step: every op the schema documents must be
// one the agent passes to policies. (When an op is added to knownOp, add it
// to both schema files' definitions.expr.)
func TestSchemaOpsAreKnown(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("schema/input.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Definitions struct {
			Expr struct {
				Properties struct {
					Op struct {
						Enum []string `json:"enum"`
					} `json:"op"`
				} `json:"properties"`
			} `json:"expr"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	ops := s.Definitions.Expr.Properties.Op.Enum
	if len(ops) < 20 {
		t.Fatalf("schema lists %d ops, want the full set", len(ops))
	}
	for _, op := range ops {
		if !knownOp(planner.Op(op)) {
			t.Errorf("schema op %q is not known to the input builder", op)
		}
	}
	for _, op := range []planner.Op{planner.OpExtract, planner.OpLike, planner.OpCase} {
		found := false
		for _, o := range ops {
			found = found || o == string(op)
		}
		if !found {
			t.Errorf("op %q is known to the input builder but missing from the schema", op)
		}
	}
}
