package coordinator

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// stringConsts returns the string constants declared in the Go files of dir.
func stringConsts(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							out[n.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	return out
}

// TestEveryRouteIsDescribed reads the patterns routes() registers (from
// http.go's source, resolving constants of this package and of the
// internal packages it names) and checks each is in openapi.json.
func TestEveryRouteIsDescribed(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	local := stringConsts(t, ".")
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, "http.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var eval func(e ast.Expr) (string, bool)
	eval = func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case *ast.Ident:
			s, ok := local[e.Name]
			return s, ok
		case *ast.SelectorExpr:
			pkg, ok := e.X.(*ast.Ident)
			if !ok {
				return "", false
			}
			s, ok := stringConsts(t, filepath.Join("..", pkg.Name))[e.Sel.Name]
			return s, ok
		case *ast.BinaryExpr:
			a, ok1 := eval(e.X)
			b, ok2 := eval(e.Y)
			return a + b, ok1 && ok2 && e.Op == token.ADD
		}
		return "", false
	}
	n := 0
	ast.Inspect(af, func(node ast.Node) bool {
		call, ok := node.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") || len(call.Args) != 2 {
			return true
		}
		pattern, ok := eval(call.Args[0])
		if !ok {
			t.Errorf("%s: cannot resolve the route pattern", fset.Position(call.Pos()))
			return true
		}
		n++
		method, path, found := strings.Cut(pattern, " ")
		if !found {
			method, path = "", pattern
		}
		item := doc.Paths.Value(path)
		switch {
		case item == nil:
			t.Errorf("route %q is not described in openapi.json", pattern)
		case method != "" && item.GetOperation(method) == nil:
			t.Errorf("route %q: openapi.json describes %s without %s", pattern, path, method)
		}
		return true
	})
	if n < 10 {
		t.Errorf("found only %d routes in http.go", n)
	}
}
