package planner

// SiteColumn is the virtual column naming the site a row lives at. It can
// be grouped on, filtered and aggregated like a text column: Split replaces
// it in each site's sub-plan by that site's name, so no engine needs such a
// column, and Participants leaves out the sites a filter on it excludes.
const SiteColumn = "_site"

// Participants returns the sites among sites that q must contact: a site
// whose name makes a top-level AND term of the filter false or NULL (e.g.
// WHERE _site IN ('a', 'b') for site "c") cannot contribute a row, so it is
// not asked. Terms that use other columns are left to the sites.
func Participants(q *Query, sites []string) []string {
	out := make([]string, 0, len(sites))
	for _, s := range sites {
		if q.Filter == nil || !excludes(bindSite(q.Filter, s)) {
			out = append(out, s)
		}
	}
	return out
}

// excludes reports whether filter f is certainly not true for any row.
func excludes(f *Expr) bool {
	terms := []*Expr{f}
	if f.Op == OpAnd {
		terms = f.Args
	}
	for _, t := range terms {
		if len(t.Columns(nil)) > 0 {
			continue
		}
		if v, ok := foldConst(t); ok && (v.Kind == KindNull || (v.Kind == KindBool && !v.Bool)) {
			return true
		}
	}
	return false
}

// bindSite returns a copy of e with the virtual _site column replaced by
// the site's name, as text.
func bindSite(e *Expr, site string) *Expr {
	if e == nil {
		return nil
	}
	if e.Op == OpColumn && e.Column == SiteColumn {
		return Call(OpCast, Lit(Value{Kind: KindString, Str: site}), Lit(Value{Kind: KindString, Str: string(CastText)}))
	}
	c := &Expr{Op: e.Op, Column: e.Column}
	if e.Value != nil {
		v := *e.Value
		c.Value = &v
	}
	for _, a := range e.Args {
		c.Args = append(c.Args, bindSite(a, site))
	}
	return c
}

// foldConst evaluates a column-free expression of string and boolean
// comparisons, as far as needed to prune sites; ok is false for anything
// else, which then keeps the site.
func foldConst(e *Expr) (Value, bool) {
	null := Value{Kind: KindNull}
	boolean := func(b bool) (Value, bool) { return Value{Kind: KindBool, Bool: b}, true }
	switch e.Op {
	case OpLiteral:
		if e.Value == nil {
			return Value{}, false
		}
		return *e.Value, true
	case OpCast:
		if ct, err := CastTarget(e); err == nil && ct == CastText {
			if v, ok := foldConst(e.Args[0]); ok && (v.Kind == KindString || v.Kind == KindNull) {
				return v, true
			}
		}
		return Value{}, false
	case OpEq, OpNe:
		if len(e.Args) != 2 {
			return Value{}, false
		}
		a, okA := foldConst(e.Args[0])
		b, okB := foldConst(e.Args[1])
		switch {
		case !okA || !okB:
			return Value{}, false
		case a.Kind == KindNull || b.Kind == KindNull:
			return null, true
		case a.Kind != KindString || b.Kind != KindString:
			return Value{}, false
		}
		return boolean((a.Str == b.Str) == (e.Op == OpEq))
	case OpIn, OpNotIn:
		if len(e.Args) < 2 {
			return Value{}, false
		}
		x, ok := foldConst(e.Args[0])
		if !ok || (x.Kind != KindString && x.Kind != KindNull) {
			return Value{}, false
		}
		if x.Kind == KindNull {
			return null, true
		}
		found, sawNull := false, false
		for _, item := range e.Args[1:] {
			v, ok := foldConst(item)
			switch {
			case !ok || (v.Kind != KindString && v.Kind != KindNull):
				return Value{}, false
			case v.Kind == KindNull:
				sawNull = true
			case v.Str == x.Str:
				found = true
			}
		}
		if !found && sawNull {
			return null, true
		}
		return boolean(found == (e.Op == OpIn))
	case OpNot:
		if len(e.Args) != 1 {
			return Value{}, false
		}
		v, ok := foldConst(e.Args[0])
		if !ok || (v.Kind != KindBool && v.Kind != KindNull) {
			return Value{}, false
		}
		if v.Kind == KindNull {
			return null, true
		}
		return boolean(!v.Bool)
	case OpAnd, OpOr:
		// Three-valued: AND is false if any term is false, OR true if any is true.
		decisive := e.Op == OpOr
		unknown := false
		for _, a := range e.Args {
			v, ok := foldConst(a)
			switch {
			case !ok || (v.Kind != KindBool && v.Kind != KindNull):
				unknown = true
			case v.Kind == KindNull:
				unknown = true
			case v.Bool == decisive:
				return boolean(decisive)
			}
		}
		if unknown {
			return Value{}, false
		}
		return boolean(!decisive)
	}
	return Value{}, false
}
