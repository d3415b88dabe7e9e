package planner

// HasSketches reports whether sp holds a sketch partial, so its engine
// result must go through merge.FoldSketches before anything else.
func (s *SubPlan) HasSketches() bool {
	if s == nil || s.Kind != KindAggregate {
		return false
	}
	for _, a := range s.Aggs {
		if a.Agg != nil && a.Agg.Func.IsSketch() {
			return true
		}
	}
	return false
}

// SketchInner is the plan the engine runs for a sub-plan with sketches: the
// same groups refined by each distinct sketch argument (one extra key each),
// with the plan's other partials per subgroup. keyOf maps each sketch
// partial's name to its extra key's name.
func SketchInner(sp *SubPlan) (inner *SubPlan, keyOf map[string]string) {
	c := *sp
	c.GroupBy = append([]OutputColumn(nil), sp.GroupBy...)
	c.Aggs = nil
	used := map[string]bool{}
	for _, o := range sp.Outputs() {
		used[o.Name] = true
	}
	byArg := map[string]string{}
	keyOf = map[string]string{}
	for _, a := range sp.Aggs {
		if a.Agg == nil || !a.Agg.Func.IsSketch() {
			c.Aggs = append(c.Aggs, a)
			continue
		}
		k := ExprKey(a.Agg.Arg)
		name, ok := byArg[k]
		if !ok {
			name = "v_" + a.Name
			for used[name] {
				name += "_"
			}
			used[name] = true
			byArg[k] = name
			c.GroupBy = append(c.GroupBy, OutputColumn{Name: name, Expr: a.Agg.Arg})
		}
		keyOf[a.Name] = name
	}
	return &c, keyOf
}
