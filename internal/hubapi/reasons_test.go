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
// with, so the kiosk's catalogue test (internal/kiosk) and the console's
// (internal/admin) can demand a sentence for each. It reads the sources:
// every exported Reason* constant holding a code, of every package of the
// hub this package imports (a new domain's refusals are passed on as soon
// as the API imports it) and of the error table (fault/hubfault), and
// every reason this package and the table write themselves, must be on
// the list.
func TestReasonsComplete(t *testing.T) {
	listed := Reasons()
	// The staff console's, never a kiosk's: a revocation is decided
	// there (internal/admin).
	staffOnly := map[string]bool{"revocation.go": true}
	dirs := importedDirs(t)
	for _, must := range []string{"../certificate", "../fees", "../api", "../limits", "../httpsig", "../fault/hubfault"} {
		if !slices.Contains(dirs, must) {
			t.Errorf("%s, whose reasons the API answers with, is not read", must)
		}
	}
	code := regexp.MustCompile(`^[a-z0-9_]+$`)
	for _, dir := range dirs {
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
						if !code.MatchString(v) {
							// A sentence (protocol's annulment
							// reasons), not a code.
							continue
						}
						n++
						if !slices.Contains(listed, v) {
							t.Errorf("%s: %s = %q is not in Reasons()", file, name.Name, v)
						}
					}
				}
			}
		}
		if n == 0 && slices.Contains([]string{"../certificate", "../fees", "../api", "../limits", "../httpsig", "../fault/hubfault"}, dir) {
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

// importedDirs are the directories, relative to this one, of the hub's
// packages this package's sources import, and of the error table.
func importedDirs(t *testing.T) []string {
	t.Helper()
	const module = "github.com/sportello/sportello/internal/"
	files, _ := filepath.Glob("*.go")
	dirs := []string{"../fault/hubfault"}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if rest, ok := strings.CutPrefix(path, module); ok && !slices.Contains(dirs, "../"+rest) {
				dirs = append(dirs, "../"+rest)
			}
		}
	}
	slices.Sort(dirs)
	return dirs
}
