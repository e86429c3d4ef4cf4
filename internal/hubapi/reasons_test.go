package hubapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestReasonsComplete: Reasons names every reason code the API answers
// with, so the kiosk's catalogue test (internal/kiosk) can demand a
// sentence for each. It reads the sources: every exported Reason*
// constant of the packages whose refusals the API passes on, and every
// reason this package and the error table (fault/hubfault) write
// themselves, must be on the list.
func TestReasonsComplete(t *testing.T) {
	listed := Reasons()
	// The staff console's, never a kiosk's: a revocation is decided
	// there (internal/admin).
	staffOnly := map[string]bool{"revocation.go": true}
	for _, dir := range []string{"../certificate", "../fees", "../api", "../limits", "../httpsig", "../fault/hubfault"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v", dir, err)
		}
		n := 0
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") || staffOnly[filepath.Base(file)] {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, sp := range g.Specs {
					vs := sp.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if !name.IsExported() || !strings.HasPrefix(name.Name, "Reason") || i >= len(vs.Values) {
							continue
						}
						lit, ok := vs.Values[i].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							continue
						}
						v, _ := strconv.Unquote(lit.Value)
						n++
						if !slices.Contains(listed, v) {
							t.Errorf("%s: %s = %q is not in Reasons()", file, name.Name, v)
						}
					}
				}
			}
		}
		if n == 0 {
			t.Errorf("no reason constant found in %s", dir)
		}
	}
	own := regexp.MustCompile(`(?:fault\.(?:New|Wrap)\(fault\.\w+, |\.Status\(\), |Reason: )"([a-z0-9_]+)"`)
	files, _ := filepath.Glob("*.go")
	table, _ := filepath.Glob("../fault/hubfault/*.go")
	files = append(files, table...)
	n := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range own.FindAllStringSubmatch(string(b), -1) {
			n++
			if !slices.Contains(listed, m[1]) {
				t.Errorf("%s answers reason %q, which is not in Reasons()", file, m[1])
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d reasons found written in this package", n)
	}
}
