package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/registry"
)

// addFamily puts a married couple of Milan with a residence history and
// a CIE: Nicolò D'Angelo (head) and Laura Bianchi (wife).
func (f *fixture) addFamily(t *testing.T) (head, wife string) {
	t.Helper()
	head, wife = "CCCFBA85D03L219P", "BNCLRA85M41F205C"
	d := func(s string) registry.Date { x, _ := registry.ParseDate(s); return x }
	err := f.reg.Update(context.Background(), func(w registry.Writer) error {
		fam := &registry.Family{Kind: registry.Famiglia}
		if err := w.PutFamily(fam); err != nil {
			return err
		}
		h := &registry.Person{CF: head, Surname: "D'ANGELO", GivenNames: "NICOLÒ", Sex: registry.Male, BirthDate: d("1985-04-03"), BirthPlace: "L219",
			Citizenships: []string{registry.Italy}, CivilStatus: registry.Married, Family: fam.ID, Relationship: registry.Head,
			Residences: []registry.Residence{
				{Address: registry.Address{Street: "Via Roma", Number: "1", CAP: "10121", Comune: "L219"}, From: d("1985-04-03"), To: d("2015-09-30")},
				{Address: registry.Address{Street: "Via Giuseppe Verdi", Number: "12", CAP: "20121", Comune: "F205"}, From: d("2015-10-01")},
			},
			Documents: []registry.Document{{Kind: registry.CIE, Number: "CA12345AB", NIS: "123456789012", Issued: d("2020-05-04"), Expires: d("2030-04-03"), Issuer: "F205"}}}
		wf := &registry.Person{CF: wife, Surname: "BIANCHI", GivenNames: "LAURA", Sex: registry.Female, BirthDate: d("1985-08-01"), BirthPlace: "F205",
			Citizenships: []string{registry.Italy}, CivilStatus: registry.Married, Family: fam.ID, Relationship: registry.Spouse,
			Residences: []registry.Residence{{Address: registry.Address{Street: "Via Giuseppe Verdi", Number: "12", CAP: "20121", Comune: "F205"}, From: d("2015-10-01")}}}
		if err := w.PutPerson(h); err != nil {
			return err
		}
		return w.PutPerson(wf)
	})
	if err != nil {
		t.Fatal(err)
	}
	return head, wife
}

// The record in words: place names, civil status as ANPR words it agreed
// with sex, documents, residence history newest first, family with the
// relationship.
func TestPersonPageInWords(t *testing.T) {
	f := newFixture(t)
	head, wife := f.addFamily(t)
	c, _ := f.login(t, "clerk")
	resp, body := get(t, c, f.srv.URL+"/admin/persons?q="+wife+"&purpose="+url.QueryEscape("verifica della residenza"))
	if resp.StatusCode != 200 {
		t.Fatalf("the page: %s", resp.Status)
	}
	for _, want := range []string{"BIANCHI LAURA", "01/08/1985 · MILANO (MI)", "femminile", ">coniugata<", "italiana",
		"D&#39;ANGELO NICOLÒ", "intestatario scheda", ">moglie<", "Via Giuseppe Verdi 12, 20121 MILANO (MI)"} {
		if !strings.Contains(body, want) {
			t.Errorf("the wife's page lacks %q", want)
		}
	}
	_, body = get(t, c, f.srv.URL+"/admin/persons?cf="+head+"&purpose="+url.QueryEscape("verifica della residenza"))
	_, hist, _ := strings.Cut(body, `id="person-residences"`)
	newer, older := strings.Index(hist, "01/10/2015"), strings.Index(hist, "30/09/2015")
	if newer < 0 || older < 0 || newer > older || !strings.Contains(hist, "TORINO (TO)") || !strings.Contains(body, ">coniugato<") {
		t.Errorf("the head's residence history, newest first, with Torino:\n%s", hist)
	}
	if !strings.Contains(body, "carta d&#39;identità elettronica") || !strings.Contains(body, "CA12345AB") || !strings.Contains(body, "04/05/2020") {
		t.Error("the head's CIE is not shown in words")
	}
}

// Search by name: prefix, case and accents ignored; every person listed
// is on the access log; a purpose is needed.
func TestPersonSearchByName(t *testing.T) {
	f := newFixture(t)
	head, wife := f.addFamily(t)
	c, _ := f.login(t, "clerk")
	if resp, _ := get(t, c, f.srv.URL+"/admin/persons?q=dangelo"); resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get(reasonHeader) != "purpose_required" {
		t.Fatalf("a name search without a purpose: %s", resp.Status)
	}
	purpose := "ricerca per pratica di residenza"
	resp, body := get(t, c, f.srv.URL+"/admin/persons?q="+url.QueryEscape("d'angelo nicolo")+"&purpose="+url.QueryEscape(purpose))
	if resp.StatusCode != 200 || !strings.Contains(body, `id="person-matches"`) || !strings.Contains(body, head) || strings.Contains(body, wife) {
		t.Fatalf("the search by name: %s\n%s", resp.Status, body)
	}
	if es := f.auditOf(t, head, "staff:clerk"); len(es) != 1 || es[0].Purpose != purpose || !strings.Contains(es[0].Data, "ricerca per nome") {
		t.Errorf("the match is recorded as %+v", es)
	}
	if es := f.auditOf(t, wife, ""); len(es) != 0 {
		t.Errorf("a person not listed is recorded: %+v", es)
	}
	_, body = get(t, c, f.srv.URL+"/admin/persons?q=ROSS&purpose="+url.QueryEscape(purpose))
	if !strings.Contains(body, f.cf) || strings.Contains(body, head) {
		t.Errorf("a surname prefix in upper case finds:\n%s", body)
	}
	_, body = get(t, c, f.srv.URL+"/admin/persons?q=verdi&purpose="+url.QueryEscape(purpose))
	if !strings.Contains(body, `id="person-nomatch"`) {
		t.Error("a name nobody has does not say so")
	}
}

// A mistyped codice fiscale is explained character by character, and
// nothing is read.
func TestPersonWrongCFExplained(t *testing.T) {
	f := newFixture(t)
	c, _ := f.login(t, "clerk")
	// RSSMRA50B17A558W with the day 17 typed 77.
	resp, body := get(t, c, f.srv.URL+"/admin/persons?q=RSSMRA50B77A558W&purpose=verifica+ufficio")
	if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get(reasonHeader) != "invalid_cf" {
		t.Fatalf("a wrong day: %s %q", resp.Status, resp.Header.Get(reasonHeader))
	}
	if !strings.Contains(body, "I caratteri 10–11 («77») non sono un giorno di nascita") || strings.Count(body, `<td class="wrong">`) != 2 {
		t.Errorf("the explanation:\n%s", body)
	}
	if es := f.auditOf(t, "", "staff:clerk"); len(es) != 0 {
		t.Errorf("a refused look-up was recorded: %+v", es)
	}
}
