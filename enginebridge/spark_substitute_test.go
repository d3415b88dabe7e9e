package enginebridge

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSparkVariableReferenceStaysLiteral runs, on the live Spark server, the
// literal the Spark renderer writes for the string ${env:HOME}
// (planner/render TestInlineLiterals): Spark substitutes ${...} in the SQL
// text before parsing, so the renderer writes the dollar as chr(36), and the
// string must come back unexpanded.
func TestSparkVariableReferenceStaysLiteral(t *testing.T) {
	t.Parallel()
	e := openSpark(t, nil)
	_, rows := queryRows(t, e, "SELECT concat(chr(36), '{env:HOME}') AS v, concat('a', chr(36), '{x}b', chr(36)) AS w")
	if diff := cmp.Diff([][]any{{"${env:HOME}", "a${x}b$"}}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
