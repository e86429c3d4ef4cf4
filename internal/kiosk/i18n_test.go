package kiosk

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
)

var verbs = regexp.MustCompile(`%[dsvq]`)

func TestCatalogs(t *testing.T) {
	c, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	it, en := c.Keys(Italian), c.Keys(English)
	slices.Sort(it)
	slices.Sort(en)
	if !slices.Equal(it, en) {
		t.Fatalf("it and en have different keys")
	}
	// Every key takes the same arguments in both languages.
	for _, k := range it {
		a, b := verbs.FindAllString(c.T(Italian, k), -1), verbs.FindAllString(c.T(English, k), -1)
		if !slices.Equal(a, b) {
			t.Errorf("%s: it has %v, en %v", k, a, b)
		}
	}
	// Every certificate type has a name on screen.
	for _, ty := range certificate.Types() {
		if !c.Has(English, "type_"+string(ty)) {
			t.Errorf("no label for certificate type %s", ty)
		}
	}
	// Every problem key the flows raise has a sentence.
	src := ""
	for _, f := range []string{"flow.go", "staff.go", "adapters.go", "accesslog.go", "sale.go", "identify.go", "claim.go", "status.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src += string(b)
	}
	for _, m := range regexp.MustCompile(`problem\("([a-z0-9_]+)"`).FindAllStringSubmatch(src, -1) {
		if strings.HasSuffix(m[1], "_") { // a prefix of the hub's reasons, with their own fallback
			continue
		}
		if !c.Has(Italian, m[1]) {
			t.Errorf("problem key %q has no translation", m[1])
		}
	}
	// Progress stages too.
	for _, m := range regexp.MustCompile(`"(progress_[a-z0-9_]+)"`).FindAllStringSubmatch(src, -1) {
		if !c.Has(English, m[1]) {
			t.Errorf("progress key %q has no translation", m[1])
		}
	}
}

func TestCatalogFallbacks(t *testing.T) {
	c, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang Lang
		p    *Problem
		want string
	}{
		{English, problem("cie_pin_wrong", "x", nil, 2), "Wrong PIN; 2 attempts left."},
		{Italian, problem("cie_pin_wrong", "x", nil, 1), "PIN errato; tentativi rimasti: 1."},
		{English, problem("hub_some_new_reason", "the hub says no", nil), "The city refused the request: the hub says no"},
		{English, problem("not_a_key", "plain detail", nil), "plain detail"},
		{English, nil, ""},
	}
	for _, tt := range tests {
		if got := c.Problem(tt.lang, tt.p); got != tt.want {
			t.Errorf("Problem(%s, %v) = %q, want %q", tt.lang, tt.p, got, tt.want)
		}
	}
	if got := c.T(English, "no_such_key"); got != "no_such_key" {
		t.Errorf("missing key shows as %q", got)
	}
	if _, err := LoadCatalog(os.DirFS(t.TempDir()), "i18n"); err == nil || !strings.Contains(err.Error(), "translations") {
		t.Errorf("missing catalog: %v", err)
	}
}

// TestRequesterRefusalsTranslated: the hub's refusals about who asks reach
// the screen as the catalogue's own sentence in both languages, not as the
// hub's English message inside the generic "the city refused" line; the
// same sentence whatever the hub's message said, so the screen adds
// nothing to what the reason code tells.
func TestRequesterRefusalsTranslated(t *testing.T) {
	c, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range []string{api.ReasonIdentificationFailed, api.ReasonNotRequesterHousehold, api.ReasonRequesterEvidenceRequired} {
		for _, lang := range Langs {
			a := c.Problem(lang, hubProblem(&Refusal{Status: 403, Reason: reason, Message: "about Qx9 A"}))
			b := c.Problem(lang, hubProblem(&Refusal{Status: 403, Reason: reason, Message: "about Qx9 B"}))
			if !c.Has(lang, "hub_"+reason) || a != b || strings.Contains(a, "Qx9") {
				t.Errorf("%s in %s shows %q and %q, want the catalogue's own sentence", reason, lang, a, b)
			}
		}
	}
}

// TestExemptionRefusalTranslated: a refused exemption, whether the kiosk
// or the hub refuses it, has its own sentence in both languages.
func TestExemptionRefusalTranslated(t *testing.T) {
	c, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Langs {
		for _, key := range []string{"fee_" + certificate.ReasonExemptionNotAllowed, "hub_" + certificate.ReasonExemptionNotAllowed} {
			if !c.Has(lang, key) {
				t.Errorf("no %s sentence for %s", lang, key)
			}
		}
	}
}

// TestOpenProcedureTranslated: the hub's refusal for an open procedure on
// the subject shows the catalogue's own sentence in Italian and English,
// not the hub's English message inside the generic line.
func TestOpenProcedureTranslated(t *testing.T) {
	c, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, lang := range Langs {
		got := c.Problem(lang, hubProblem(&Refusal{Status: 422, Reason: certificate.ReasonOpenProcedure, Message: "hub sentence Qx9"}))
		if !c.Has(lang, "hub_"+certificate.ReasonOpenProcedure) || strings.Contains(got, "Qx9") || seen[got] {
			t.Errorf("open procedure in %s shows %q, want the catalogue's own sentence", lang, got)
		}
		seen[got] = true
	}
}
