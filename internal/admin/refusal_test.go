package admin

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/fault/faulttest"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/payment"
)

// TestNoStatusLiterals: no console or public-page handler decides a
// refusal's status itself; each answers through fail, renderRefused or
// renderOr with a fault, whose kind fault's one table turns into the
// status the API would answer too.
func TestNoStatusLiterals(t *testing.T) {
	found, err := faulttest.DirStatusLiterals(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range found {
		t.Errorf("%s: a refusal's status comes from its fault's kind (c.fail, c.renderRefused, c.renderOr), not from the handler", at)
	}
}

// consoleRefusals is every refused(kind, "reason", args…) call in the
// console's sources: the reason and the number of arguments.
func consoleRefusals(t *testing.T) map[string]int {
	t.Helper()
	files, _ := filepath.Glob("*.go")
	out := map[string]int{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "refused" {
				return true
			}
			reason := ""
			switch a := call.Args[1].(type) {
			case *ast.BasicLit:
				reason, _ = strconv.Unquote(a.Value)
			case *ast.SelectorExpr:
				// A domain package's constant: its value is the
				// catalogue's key, resolved below.
				reason = "const:" + a.Sel.Name
			}
			out[reason] = max(out[reason], len(call.Args)-2)
			return true
		})
	}
	return out
}

// TestEveryReasonHasASentence: every reason code the console answers
// with, its own (refused) and the city settings' (city.Error), and every
// reason of the API (hubapi.Reasons, which the hub's error table feeds
// the console too), has a sentence in Italian and in English; a reason a
// domain error may carry has one without formatting verbs, as it is said
// with no arguments; and the console's own sentences take exactly the
// arguments their refusals give.
func TestEveryReasonHasASentence(t *testing.T) {
	own := consoleRefusals(t)
	if len(own) < 30 {
		t.Fatalf("only %d refusals found in the console's sources", len(own))
	}
	consts := map[string]string{"const:ReasonRevocationBadText": "revocation_bad_text"}
	for reason, n := range own {
		if v, ok := consts[reason]; ok {
			reason = v
		} else if strings.HasPrefix(reason, "const:") {
			t.Errorf("refused with %s: add its value to this test", reason)
			continue
		}
		if _, ok := reasonSentences[reason]; !ok {
			t.Errorf("the console refuses with %q, which its catalogue (reasons.go) lacks", reason)
			continue
		}
		args := make([]any, n)
		for i := range args {
			args[i] = "Qx9"
		}
		for _, lang := range languages {
			if s := reasonText(lang, reason, args...); strings.Contains(s, "%!") || (n > 0 && !strings.Contains(s, "Qx9")) {
				t.Errorf("%s in %s with %d arguments reads %q", reason, lang, n, s)
			}
		}
	}
	// The city settings' refusals, said with their arguments.
	for _, reason := range cityReasons(t) {
		if _, ok := reasonSentences[reason]; !ok {
			t.Errorf("the city settings refuse with %q, which the console's catalogue lacks", reason)
		}
	}
	api := hubapi.Reasons()
	if len(api) < 100 {
		t.Fatalf("only %d API reasons", len(api))
	}
	for _, reason := range append(api, "internal", "unavailable", "not_found", "invalid", "conflict", "ambiguous") {
		for _, lang := range languages {
			s, ok := sentence(lang, reason)
			if !ok || s == "" {
				t.Errorf("reason %s has no %s sentence for the console", reason, lang)
			} else if strings.Contains(s, "%") {
				t.Errorf("reason %s, which a domain error may carry, reads %q in %s: a sentence with verbs needs arguments", reason, s, lang)
			}
		}
	}
	for reason, m := range reasonSentences {
		if m[0] == "" || m[1] == "" || m[0] == m[1] && !strings.Contains(m[0], "%") {
			t.Errorf("reason %s: %q / %q is not one sentence per language", reason, m[0], m[1])
		}
	}
}

// cityReasons reads the reason constants of the city settings' refusals.
func cityReasons(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("../city/*.go")
	var out []string
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
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
					if !strings.HasPrefix(name.Name, "Reason") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						out = append(out, v)
					}
				}
			}
		}
	}
	if len(out) < 5 {
		t.Fatalf("only %d city reasons found", len(out))
	}
	return out
}

// TestRefuse: the one path from an error to the status, the reason code
// and the sentence, in the page's language.
func TestRefuse(t *testing.T) {
	c := &Console{}
	for _, tc := range []struct {
		name   string
		err    error
		lang   string
		status int
		reason string
		says   string
		hides  string
	}{
		{"the console's own, with arguments", refused(fault.Gone, "certificate_purged", "abc", "01/02/2020", "03/04/2030"), "it", 410, "certificate_purged",
			"Il certificato abc, rilasciato il 01/02/2020, è stato cancellato il 03/04/2030", ""},
		{"the same in English", refused(fault.Gone, "certificate_purged", "abc", "01/02/2020", "03/04/2030"), "en", 410, "certificate_purged",
			"Certificate abc, issued on 01/02/2020", ""},
		{"a domain error: its reason's sentence and its detail", fmt.Errorf("%w: the account \"x\" is already disabled", staff.ErrInvalid), "it", 422, "invalid",
			reasonSentences["invalid"][0] + " Dettaglio: invalid staff data: the account \"x\" is already disabled", ""},
		{"a failure of the hub: no detail shown", errors.New("bolt: file at /var/lib/x Qx9 damaged"), "it", 500, "internal",
			reasonSentences["internal"][0], "Qx9"},
		{"a request given up", fmt.Errorf("reading: %w", context.Canceled), "en", 503, "unavailable", reasonSentences["unavailable"][1], "reading"},
		{"a reason of the API the console did not phrase: the kiosks' sentence", payment.ErrUsed, "it", 409, "payment_used", kioskSentences()["it"]["hub_payment_used"], ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/admin/?lang="+tc.lang, nil)
			v := &view{Lang: tc.lang}
			status := c.refuse(r, v, tc.err)
			if status != tc.status || v.Reason != tc.reason || !strings.Contains(v.Error, tc.says) || (tc.hides != "" && strings.Contains(v.Error, tc.hides)) {
				t.Errorf("refuse(%v) = %d %q %q; want %d %q containing %q", tc.err, status, v.Reason, v.Error, tc.status, tc.reason, tc.says)
			}
		})
	}
}
