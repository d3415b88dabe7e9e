// Package plantest holds fixtures that the tests of several planner
// packages share. Only tests import it.
package plantest

import (
	"time"

	"github.com/fedmesh/fedmesh/planner"
)

// Meta is the sub-plan metadata of the planner tests.
func Meta() planner.SubPlanMeta {
	return planner.SubPlanMeta{QueryID: "q-1", Analyst: "alice", Deadline: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}
