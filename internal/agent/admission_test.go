package agent

import "github.com/fedmesh/fedmesh/internal/admission"

// testSlots is an admission queue of n engine slots with the defaults.
func testSlots(n int) *admission.Queue {
	q, err := admission.New(admission.Config{Slots: n})
	if err != nil {
		panic(err)
	}
	return q
}
