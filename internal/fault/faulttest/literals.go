// Package faulttest holds the check that keeps a package's answers on
// fault's one table: no handler names a 4xx or 5xx status itself. The API
// (internal/hubapi), the console (internal/admin) and the signature checks
// (internal/httpsig) run it from their tests.
package faulttest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
)

// Allowed are the statuses a handler may name itself: success, redirects
// and the protocol's own answers (304, 405 with its Allow header). Every
// refusal's status is fault's table's, for the kind of the error.
var Allowed = map[string]bool{
	"StatusOK": true, "StatusCreated": true, "StatusAccepted": true, "StatusNoContent": true,
	"StatusPartialContent": true, "StatusSwitchingProtocols": true,
	"StatusMovedPermanently": true, "StatusFound": true, "StatusSeeOther": true,
	"StatusTemporaryRedirect": true, "StatusPermanentRedirect": true,
	"StatusNotModified": true, "StatusMethodNotAllowed": true,
}

// writers are the calls that answer with a status given to them.
var writers = map[string]bool{"WriteHeader": true, "Error": true, "render": true, "Redirect": true, "writeJSON": true}

// StatusLiterals reports where f names an HTTP error status itself: an
// http.Status… constant outside Allowed, or a number from 400 to 599
// passed to a call that answers with it — except as an operand of == or
// != (reading the status of an answer another handler wrote).
func StatusLiterals(fset *token.FileSet, f *ast.File) []string {
	compared := map[ast.Node]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if b, ok := n.(*ast.BinaryExpr); ok && (b.Op == token.EQL || b.Op == token.NEQ) {
			compared[b.X], compared[b.Y] = true, true
		}
		return true
	})
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch e := n.(type) {
		case *ast.SelectorExpr:
			if id, ok := e.X.(*ast.Ident); ok && id.Name == "http" && strings.HasPrefix(e.Sel.Name, "Status") &&
				e.Sel.Name != "StatusText" && !Allowed[e.Sel.Name] && !compared[e] {
				found = append(found, fmt.Sprintf("%s: http.%s", fset.Position(e.Pos()), e.Sel.Name))
			}
		case *ast.CallExpr:
			name := ""
			switch fn := e.Fun.(type) {
			case *ast.Ident:
				name = fn.Name
			case *ast.SelectorExpr:
				name = fn.Sel.Name
			}
			if !writers[name] {
				return true
			}
			for _, a := range e.Args {
				if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.INT {
					if v, err := strconv.Atoi(lit.Value); err == nil && v >= 400 && v <= 599 {
						found = append(found, fmt.Sprintf("%s: status %d", fset.Position(lit.Pos()), v))
					}
				}
			}
		}
		return true
	})
	return found
}

// DirStatusLiterals is StatusLiterals over the non-test Go files of dir.
func DirStatusLiterals(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	fset := token.NewFileSet()
	var found []string
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			return nil, err
		}
		found = append(found, StatusLiterals(fset, f)...)
	}
	return found, nil
}
