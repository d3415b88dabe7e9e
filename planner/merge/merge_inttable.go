package merge

import "math/bits"

// intTable maps int64 keys to group ids by open addressing with linear
// probing. Slots hold key and id together, so a lookup usually costs one
// cache miss; with a million groups that is what dominates a merge.
type intTable struct {
	slots []intSlot
	shift uint // 64 - log2(len(slots))
	n     int
}

type intSlot struct {
	key int64
	id1 int32 // group id + 1; 0 marks an empty slot
}

func newIntTable(hint int) *intTable {
	t := &intTable{}
	t.resize(max(hint*2, 16))
	return t
}

func (t *intTable) resize(want int) {
	size := 1 << bits.Len(uint(want-1))
	old := t.slots
	t.slots = make([]intSlot, size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	for _, s := range old {
		if s.id1 != 0 {
			*t.slot(s.key) = s
		}
	}
}

// slot returns the slot holding key, or the empty slot where it belongs.
func (t *intTable) slot(key int64) *intSlot {
	mask := len(t.slots) - 1
	i := int((uint64(key) * 0x9E3779B97F4A7C15) >> t.shift)
	for {
		s := &t.slots[i]
		if s.id1 == 0 || s.key == key {
			return s
		}
		i = (i + 1) & mask
	}
}

// get returns the group id of key, or -1.
func (t *intTable) get(key int64) int32 {
	return t.slot(key).id1 - 1
}

// put records a new key's group id; key must not be present.
func (t *intTable) put(key int64, id int32) {
	*t.slot(key) = intSlot{key: key, id1: id + 1}
	t.n++
	if t.n*2 > len(t.slots) {
		t.resize(len(t.slots) * 2)
	}
}
