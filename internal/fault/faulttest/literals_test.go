package faulttest

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestStatusLiterals: the check finds a handler naming 409 and 404, and
// lets a comparison, a success and a redirect be.
func TestStatusLiterals(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "bad.go", `package h
func h(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusConflict)
	http.Error(w, "no", 404)
	if status == http.StatusNotFound { w.WriteHeader(http.StatusOK) }
	http.Redirect(w, r, "/", http.StatusSeeOther)
	x := compute(404)
}`, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := StatusLiterals(fset, f)
	if len(got) != 2 || !strings.Contains(got[0], "StatusConflict") || !strings.Contains(got[1], "status 404") {
		t.Errorf("found %q, want the 409 and the 404", got)
	}
}
