package merge

// groupTable assigns dense group ids to key tuples and remembers each
// group's key values (boxed once, when the group is first seen).
//
// A single exact key (the common GROUP BY on an integer column) is looked up
// in an open-addressing intTable; anything else is encoded into a compact byte string
// per row (see colReader.appendKey) and looked up in a map[string]int32. The
// lookup with string(buf) does not allocate; only new groups do.
type groupTable struct {
	keyVals [][]any // per key column, per group id
	n       int     // number of groups

	intMap    *intTable // single exact key, values that fit int64
	nullGroup int32     // single exact key: the NULL group, or -1
	strMap    map[string]int32
	buf       []byte
	gids      []int32
}

// newGroupTable returns a table for the given key types. sizeHint is a lower
// bound on the number of groups. Without keys there is exactly one group,
// even when no site sent a row: SQL's global aggregate always has one row.
func newGroupTable(keyTypes []ltype, sizeHint int) *groupTable {
	g := &groupTable{keyVals: make([][]any, len(keyTypes)), nullGroup: -1}
	switch {
	case len(keyTypes) == 0:
		g.n = 1
	case len(keyTypes) == 1 && keyTypes[0].exact():
		g.intMap = newIntTable(sizeHint)
		g.strMap = map[string]int32{}
		for k := range g.keyVals {
			g.keyVals[k] = make([]any, 0, sizeHint)
		}
	default:
		g.strMap = make(map[string]int32, sizeHint)
		for k := range g.keyVals {
			g.keyVals[k] = make([]any, 0, sizeHint)
		}
	}
	return g
}

// assign returns the group id of each of the n rows the key readers point at.
// The slice is reused by the next call.
func (g *groupTable) assign(keys []*colReader, n int) []int32 {
	if cap(g.gids) < n {
		g.gids = make([]int32, n)
	}
	gids := g.gids[:n]
	switch {
	case len(keys) == 0:
		clear(gids)
	case g.intMap != nil:
		g.assignInt(keys, gids)
	default:
		for i := range gids {
			gids[i] = g.lookupEncoded(keys, i)
		}
	}
	return gids
}

func (g *groupTable) assignInt(keys []*colReader, gids []int32) {
	r := keys[0]
	if r.allNull {
		for i := range gids {
			gids[i] = g.null(keys, i)
		}
		return
	}
	if !r.hasNulls && r.bigs == nil {
		for i, v := range r.ints[:len(gids)] {
			id := g.intMap.get(v)
			if id < 0 {
				id = g.newGroup(keys, i)
				g.intMap.put(v, id)
			}
			gids[i] = id
		}
		return
	}
	for i := range gids {
		if r.isNull(i) {
			gids[i] = g.null(keys, i)
			continue
		}
		v, b := r.exactAt(i)
		if b != nil {
			gids[i] = g.lookupEncoded(keys, i)
			continue
		}
		id := g.intMap.get(v)
		if id < 0 {
			id = g.newGroup(keys, i)
			g.intMap.put(v, id)
		}
		gids[i] = id
	}
}

func (g *groupTable) null(keys []*colReader, i int) int32 {
	if g.nullGroup < 0 {
		g.nullGroup = g.newGroup(keys, i)
	}
	return g.nullGroup
}

func (g *groupTable) lookupEncoded(keys []*colReader, i int) int32 {
	buf := g.buf[:0]
	for _, r := range keys {
		buf = r.appendKey(buf, i)
	}
	g.buf = buf
	if id, ok := g.strMap[string(buf)]; ok {
		return id
	}
	id := g.newGroup(keys, i)
	g.strMap[string(buf)] = id
	return id
}

func (g *groupTable) newGroup(keys []*colReader, i int) int32 {
	for k, r := range keys {
		g.keyVals[k] = append(g.keyVals[k], r.value(i))
	}
	id := int32(g.n)
	g.n++
	return id
}
