package browsertest

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/opendata"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/synth"
)

// TestEveryRequestKind is issue 17's done-when for the requests other
// than the change of address (TestDecideRequest): each is filed through a
// shop's enrolled kiosk with the kiosk's signed client, gets a protocol
// number and the hash of what was filed, both found in the hub's protocol
// register, and is decided by a registry clerk in the console. Accepting
// each makes its change: an Italian abroad (AIRE) comes back with a
// partner the registry did not know, both registered as residents in one
// famiglia; the two then register a convivenza di fatto and end it; a
// historical certificate is issued from the registry on acceptance and
// another prepared by the office is attached as a PDF, both fetched by the
// shop that filed them; a DAT is
// recorded with its document; a name is corrected, after the office asked
// for more and the citizen answered from the kiosk, with the registry's
// history keeping what it was. One request is refused with its reasons.
func TestEveryRequestKind(t *testing.T) {
	h := startHub(t)
	ctx, cancel := newBrowserFor(t, h, 4*time.Minute)
	defer cancel()
	if err := chromedp.Run(ctx, emulation.SetDeviceMetricsOverride(1280, 900, 1, false)); err != nil {
		t.Fatal(err)
	}
	aire, resident := demoFilers(t, h)
	kiosk, logIn := counterKiosk(t, h)
	bg := context.Background()
	// again runs a kiosk call, once more after logging the clerk in again
	// if the session ended at midnight meanwhile.
	again := func(call func() error) error {
		err := call()
		var ae *api.Refusal
		if errors.As(err, &ae) && ae.Reason == api.ReasonClerkSessionExpired {
			logIn()
			err = call()
		}
		return err
	}
	evidence := func(p *registry.Person) *api.RequesterEvidence {
		d, ok := p.ValidDocument(registry.DateOf(time.Now()))
		if !ok {
			t.Fatalf("%s has no valid document", p.CF)
		}
		return &api.RequesterEvidence{Method: api.EvidenceDocument, CF: p.CF, Document: d.Number}
	}
	var filed []*api.Request
	file := func(key string, by *registry.Person, kind request.Kind, form request.Form, files ...api.Upload) *api.Request {
		t.Helper()
		var rec *api.Request
		err := again(func() (err error) {
			rec, err = kiosk.FileRequest(bg, api.RequestFiling{Kind: string(kind), IdempotencyKey: key, Requester: evidence(by), Form: form, Attachments: files})
			return err
		})
		if err != nil {
			t.Fatalf("filing %s: %v", kind, err)
		}
		if rec.Protocol == "" || len(rec.SHA256) != 64 || rec.Kind != string(kind) {
			t.Fatalf("%s filed as %+v", kind, rec)
		}
		filed = append(filed, rec)
		return rec
	}
	read := func(id string) (rec *api.Request, err error) {
		err = again(func() error { rec, err = kiosk.Request(bg, id); return err })
		return rec, err
	}
	shoot := screenshotter(t)
	// decide opens a request in the console with a purpose and takes one
	// step (accept, ask, refuse) with text for the citizen.
	decide := func(t *testing.T, rec *api.Request, action, note string, shots ...string) (status, history, form string) {
		t.Helper()
		flash := map[string]string{"accept": "Pratica accolta", "ask": "Richiesta di integrazione inviata", "refuse": "Pratica respinta"}[action]
		var before, after chromedp.Action = chromedp.Tasks{}, chromedp.Tasks{}
		if len(shots) > 0 {
			before = shoot(shots[0])
		}
		if len(shots) > 1 {
			after = shoot(shots[1])
		}
		err := chromedp.Run(ctx,
			chromedp.Navigate(h.url+"/admin/requests/"+rec.ID+"?purpose="+url.QueryEscape("istruttoria della pratica "+rec.Protocol)),
			chromedp.WaitVisible(`#req-history`, chromedp.ByQuery), text(`#req-form`, &form), before,
			chromedp.SetValue(`#text`, note, chromedp.ByQuery),
			chromedp.Click(`#req-`+action, chromedp.ByQuery),
			waitText(`.flash`, flash), text(`#req-status`, &status), text(`#req-history`, &history), after,
		)
		if err != nil {
			var alert string
			actx, stop := context.WithTimeout(ctx, 5*time.Second)
			chromedp.Run(actx, chromedp.Evaluate(`(document.querySelector('[role=alert]')||{}).innerText||''`, &alert)) //nolint:errcheck // only to say why
			stop()
			t.Fatalf("%s %s in the console: %v (the page says %q)", action, rec.Protocol, err, alert)
		}
		return status, history, form
	}
	accepted := func(t *testing.T, rec *api.Request, status, history, decision string) {
		t.Helper()
		if !strings.Contains(status, "accolta") || !strings.Contains(history, "presentata") || !strings.Contains(history, "accolta") || !strings.Contains(history, "staff:clerk") {
			t.Errorf("after accepting %s: status %q, history %q", rec.Protocol, status, history)
		}
		got, err := read(rec.ID)
		if err != nil || got.Status != string(request.Accepted) || got.Decision != decision {
			t.Errorf("the kiosk reads %s as %+v, %v", rec.Protocol, got, err)
		}
	}
	if err := chromedp.Run(ctx, chromedp.Navigate(h.url+"/admin/"), login("clerk", demoPassword)); err != nil {
		t.Fatal(err)
	}

	// The partner coming back with the Italian abroad: unknown to the
	// registry, born in the same state.
	born := time.Date(1956, 6, 14, 0, 0, 0, 0, time.UTC)
	partnerCF, err := codicefiscale.Encode(codicefiscale.Subject{Surname: "Dubois", Name: "Jean", Sex: 'M', Birth: born, Place: "Z110"})
	if err != nil {
		t.Fatal(err)
	}
	street := synth.DefaultCity().Streets[12].Name
	abroad, _ := aire.CurrentResidence()
	var residence *api.Request

	t.Run("residence from abroad", func(t *testing.T) {
		rec := file("kinds-residence", aire, request.ResidenceChange, request.Form{Residence: &request.ResidenceForm{
			Origin: request.FromAbroad, OriginPlace: abroad.Address.Comune, Statement: true,
			NewAddress: request.NewAddress{Street: street, Number: "5", Internal: "scala A"},
			Persons: []request.Mover{
				{CF: aire.CF, Surname: aire.Surname, GivenNames: aire.GivenNames, Sex: aire.Sex.String(), BirthDate: aire.BirthDate.String(),
					BirthPlace: aire.BirthPlace, Citizenship: registry.Italy, Relationship: 1},
				{CF: partnerCF, Surname: "Dubois", GivenNames: "Jean", Sex: "M", BirthDate: born.Format("2006-01-02"), BirthPlace: "Z110", Citizenship: "Z110"},
			}}})
		residence = rec
		if rec.SilenceAssent.IsZero() || rec.RegisterBy.IsZero() {
			t.Errorf("a residence declaration has no deadlines: %+v", rec)
		}
		// The queue of its kind, with its countdown.
		var row string
		err := chromedp.Run(ctx,
			chromedp.Navigate(h.url+"/admin/requests"), chromedp.WaitVisible(`#req-list`, chromedp.ByQuery),
			chromedp.Click(`#queue-`+string(request.ResidenceChange), chromedp.ByQuery), chromedp.WaitVisible(`#req-`+rec.ID, chromedp.ByQuery),
			text(`#req-`+rec.ID, &row), shoot("requests-residence"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(row, rec.Protocol) || !strings.Contains(row, "giorni al silenzio-assenso") || !strings.Contains(row, "Registrazione entro") {
			t.Errorf("the queue's row says %q", row)
		}
		status, history, form := decide(t, rec, "accept", "Iscrizione anagrafica dall'estero: accertamento positivo.", "request-residence", "request-residence-accepted")
		if !strings.Contains(form, partnerCF) || !strings.Contains(form, street+" 5") {
			t.Errorf("the form shows %q", form)
		}
		accepted(t, rec, status, history, "Iscrizione anagrafica dall'estero: accertamento positivo.")
		back, err := showPerson(t, h, aire.CF)
		if err != nil {
			t.Fatal(err)
		}
		partner, err := showPerson(t, h, partnerCF)
		if err != nil {
			t.Fatalf("the partner is not in the registry after acceptance: %v", err)
		}
		for _, p := range []*registry.Person{back, partner} {
			cur, ok := p.CurrentResidence()
			if !ok || p.AIRE || cur.Address.Street != street || cur.Address.Number != "5" || cur.Address.Comune != "F205" || !p.ProcedureOpen.IsZero() {
				t.Errorf("%s after acceptance: AIRE %v, residence %+v, procedure open %v", p.CF, p.AIRE, cur.Address, p.ProcedureOpen)
			}
		}
		if back.Family == 0 || partner.Family != back.Family || back.Relationship != registry.Head {
			t.Errorf("the famiglia: %s in %d as %d, %s in %d", back.CF, back.Family, back.Relationship, partner.CF, partner.Family)
		}
		// The residence abroad stays in the history, closed.
		if n := len(back.Residences); n < 2 || back.Residences[n-2].Address.Comune != abroad.Address.Comune || back.Residences[n-2].To.IsZero() {
			t.Errorf("the residence history: %+v", back.Residences)
		}
		aire = back
	})
	t.Run("convivenza di fatto registered", func(t *testing.T) {
		rec := file("kinds-cohabit", aire, request.Cohabitation, request.Form{Cohabit: &request.CohabitForm{
			Action: request.CohabitStart, Partners: [2]string{aire.CF, partnerCF}, Statement: true}})
		status, history, form := decide(t, rec, "accept", "Convivenza di fatto registrata.")
		if !strings.Contains(form, partnerCF) || !strings.Contains(form, request.CohabitStart) {
			t.Errorf("the form shows %q", form)
		}
		accepted(t, rec, status, history, "Convivenza di fatto registrata.")
		partner, err := showPerson(t, h, partnerCF)
		if err != nil {
			t.Fatal(err)
		}
		if partner.Relationship != registry.Cohabitant {
			t.Errorf("the partner's relationship is %d, want convivente (%d)", partner.Relationship, registry.Cohabitant)
		}
		if !slices.Contains(eventKinds(t, h, aire.CF), "convivenza_di_fatto") {
			t.Errorf("the registry records no convivenza for %s", aire.CF)
		}
	})
	t.Run("convivenza di fatto ended", func(t *testing.T) {
		rec := file("kinds-cohabit-end", aire, request.Cohabitation, request.Form{Cohabit: &request.CohabitForm{
			Action: request.CohabitEnd, Partners: [2]string{aire.CF, partnerCF}, Statement: true}})
		status, history, _ := decide(t, rec, "accept", "Cessazione della convivenza registrata.")
		accepted(t, rec, status, history, "Cessazione della convivenza registrata.")
		partner, err := showPerson(t, h, partnerCF)
		if err != nil {
			t.Fatal(err)
		}
		if partner.Relationship == registry.Cohabitant {
			t.Error("the partner is still convivente after the end was accepted")
		}
		if ev := eventKinds(t, h, aire.CF); !slices.Contains(ev, "convivenza_di_fatto") || !slices.Contains(ev, "cessazione_convivenza_di_fatto") {
			t.Errorf("the registry's events of %s: %v", aire.CF, ev)
		}
	})
	t.Run("historical certificate", func(t *testing.T) {
		// Composed from the registry: accepting issues the certificate
		// through the issuance path, linked to the request; the shop that
		// filed it fetches the sealed PDF to print, verifiable at /v/{id}.
		rec := file("kinds-historical", resident, request.Historical, request.Form{Historical: &request.HistoricalForm{
			SubjectCF: resident.CF, What: "residenza", Purpose: "pratica di successione"}})
		status, history, form := decide(t, rec, "accept", "Il certificato storico è pronto: si ritira allo sportello anagrafe.", "request-historical", "request-historical-accepted")
		if !strings.Contains(form, "pratica di successione") {
			t.Errorf("the form shows %q", form)
		}
		accepted(t, rec, status, history, "Il certificato storico è pronto: si ritira allo sportello anagrafe.")
		var outcome, verified string
		if err := chromedp.Run(ctx, text(`#req-outcome`, &outcome)); err != nil || !strings.Contains(outcome, "Certificato rilasciato") {
			t.Errorf("the console shows the outcome as %q (%v)", outcome, err)
		}
		got, err := read(rec.ID)
		if err != nil || got.Outcome == nil || got.Outcome.CertificateID == "" {
			t.Fatalf("the kiosk reads the outcome as %+v (%v)", got, err)
		}
		var pdf []byte
		if err := again(func() (err error) { pdf, err = kiosk.RequestOutcome(bg, rec.ID); return err }); err != nil || !strings.HasPrefix(string(pdf), "%PDF-") {
			t.Fatalf("the kiosk fetched %d bytes of the certificate: %v", len(pdf), err)
		}
		if err := chromedp.Run(ctx, chromedp.Navigate(h.url+"/v/"+got.Outcome.CertificateID), text(`[role=status]`, &verified)); err != nil || !strings.Contains(strings.ToLower(verified), "valido") {
			t.Errorf("the issued certificate verifies as %q (%v)", verified, err)
		}

		// Before computerisation: the clerk attaches the PDF the office
		// prepared from its paper archive.
		rec = file("kinds-historical-archive", resident, request.Historical, request.Form{Historical: &request.HistoricalForm{
			SubjectCF: resident.CF, What: "stato_di_famiglia", Date: resident.BirthDate.String(), Purpose: "pensione di reversibilità"}})
		prepared := filepath.Join(t.TempDir(), "storico.pdf")
		doc := "%PDF-1.7\n% certificato storico dall'archivio cartaceo\n%%EOF\n"
		if err := os.WriteFile(prepared, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		var files string
		err = chromedp.Run(ctx,
			chromedp.Navigate(h.url+"/admin/requests/"+rec.ID+"?purpose="+url.QueryEscape("istruttoria della pratica "+rec.Protocol)),
			chromedp.WaitVisible(`#req-delivery`, chromedp.ByQuery),
			chromedp.Click(`#outcome-document`, chromedp.ByQuery),
			chromedp.SetUploadFiles(`#document`, []string{prepared}, chromedp.ByQuery),
			chromedp.SetValue(`#text`, "Certificato preparato dall'archivio storico.", chromedp.ByQuery),
			chromedp.Click(`#req-accept`, chromedp.ByQuery),
			waitText(`.flash`, "Pratica accolta"), text(`#req-outcome`, &outcome), text(`#req-files`, &files), shoot("request-historical-prepared"),
		)
		if err != nil {
			t.Fatalf("accepting with the prepared PDF: %v", err)
		}
		if !strings.Contains(outcome, "storico.pdf") || !strings.Contains(files, "storico.pdf") {
			t.Errorf("the prepared document on the page: outcome %q, files %q", outcome, files)
		}
		if err := again(func() (err error) { pdf, err = kiosk.RequestOutcome(bg, rec.ID); return err }); err != nil || string(pdf) != doc {
			t.Errorf("the kiosk fetched %q: %v", pdf, err)
		}
	})
	t.Run("DAT", func(t *testing.T) {
		pdf := api.Upload{Name: "dat.pdf", Data: []byte("%PDF-1.7\n% disposizioni anticipate di trattamento\n%%EOF\n")}
		rec := file("kinds-dat", resident, request.DAT, request.Form{DAT: &request.DATForm{DocumentDate: "2026-11-20", Statement: true}}, pdf)
		status, history, _ := decide(t, rec, "accept", "DAT ricevute e conservate nel registro comunale.")
		accepted(t, rec, status, history, "DAT ricevute e conservate nel registro comunale.")
		var files string
		if err := chromedp.Run(ctx, text(`#req-files`, &files)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(files, "dat.pdf") || !strings.Contains(files, "application/pdf") {
			t.Errorf("the DAT's document on the page: %q", files)
		}
	})
	t.Run("correction after asking for more", func(t *testing.T) {
		given := resident.GivenNames + " Maria"
		rec := file("kinds-correction", resident, request.Correction, request.Form{Correction: &request.CorrectionForm{
			SubjectCF: resident.CF, Field: request.FieldGivenNames, Correct: given, Reason: "il secondo nome manca"}},
			api.Upload{Name: "estratto.pdf", Data: []byte("%PDF-1.7\n% estratto dell'atto di nascita\n%%EOF\n")})
		status, history, _ := decide(t, rec, "ask", "Alleghi anche la copia integrale dell'atto di nascita.")
		if !strings.Contains(status, "in attesa di integrazione") || !strings.Contains(history, "integrazione chiesta") {
			t.Errorf("after asking: status %q, history %q", status, history)
		}
		got, err := read(rec.ID)
		if err != nil || got.Status != string(request.MoreInfo) || got.Question != "Alleghi anche la copia integrale dell'atto di nascita." {
			t.Fatalf("the kiosk reads %+v, %v", got, err)
		}
		if err := again(func() error {
			_, err := kiosk.AnswerRequest(bg, rec.ID, api.RequestAnswer{Requester: evidence(resident), Text: "Allego la copia integrale.",
				Attachments: []api.Upload{{Name: "copia-integrale.pdf", Data: []byte("%PDF-1.7\n% copia integrale\n%%EOF\n")}}})
			return err
		}); err != nil {
			t.Fatalf("answering from the kiosk: %v", err)
		}
		status, history, _ = decide(t, rec, "accept", "Rettifica eseguita.", "request-correction", "request-correction-accepted")
		if !strings.Contains(history, "integrazione ricevuta") {
			t.Errorf("the history misses the answer: %q", history)
		}
		accepted(t, rec, status, history, "Rettifica eseguita.")
		var files string
		if err := chromedp.Run(ctx, text(`#req-files`, &files)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(files, "estratto.pdf") || !strings.Contains(files, "copia-integrale.pdf") {
			t.Errorf("the documents on the page: %q", files)
		}
		p, err := showPerson(t, h, resident.CF)
		if err != nil {
			t.Fatal(err)
		}
		if p.GivenNames != strings.ToUpper(given) {
			t.Errorf("the given names are %q, want %q", p.GivenNames, strings.ToUpper(given))
		}
		// The record's history keeps what it was.
		if notes := eventNotes(t, h, resident.CF, "rettifica_anagrafica"); len(notes) != 1 || !strings.Contains(notes[0], resident.GivenNames) || !strings.Contains(notes[0], rec.Protocol) {
			t.Errorf("the registry's correction events: %q", notes)
		}
	})
	t.Run("refused with reasons", func(t *testing.T) {
		rec := file("kinds-refused", resident, request.Historical, request.Form{Historical: &request.HistoricalForm{
			SubjectCF: resident.CF, What: "stato_di_famiglia", Date: registry.DateOf(time.Now().AddDate(-1, 0, 0)).String(), Purpose: "pratica di successione"}})
		reasons := "Lo stato di famiglia di un anno fa è quello di oggi: si chiede allo sportello come certificato ordinario, senza pratica."
		status, history, _ := decide(t, rec, "refuse", reasons)
		if !strings.Contains(status, "respinta") || !strings.Contains(history, "respinta") || !strings.Contains(history, reasons) {
			t.Errorf("after refusing: status %q, history %q", status, history)
		}
		got, err := read(rec.ID)
		if err != nil || got.Status != string(request.Refused) || got.Decision != reasons {
			t.Errorf("the kiosk reads %+v, %v", got, err)
		}
	})
	if t.Failed() {
		return
	}
	// The same page for a clerk who reads English: its labels, kinds and
	// coded values too.
	t.Run("in English", func(t *testing.T) {
		var title, form, queue string
		err := chromedp.Run(ctx,
			chromedp.Navigate(h.url+"/admin/requests/"+residence.ID+"?lang=en&purpose="+url.QueryEscape("reading the declaration")),
			chromedp.WaitVisible(`#req-history`, chromedp.ByQuery), text(`#rtitle`, &title), text(`#req-form`, &form), shoot("request-residence-en"),
			chromedp.Navigate(h.url+"/admin/requests?status=all&lang=en"), chromedp.WaitVisible(`#req-list`, chromedp.ByQuery), text(`#req-queues`, &queue), shoot("requests-en"),
			chromedp.Navigate(h.url+"/admin/requests?lang=it"), chromedp.WaitVisible(`#req-list`, chromedp.ByQuery))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Declaration of residence", "Coming from", "abroad", "Person moving in", "born", "Statement of truth"} {
			if !strings.Contains(title+form, want) {
				t.Errorf("the English page lacks %q: %q %q", want, title, form)
			}
		}
		if !strings.Contains(queue, "Correction of registry data") || strings.Contains(queue, "Rettifica") {
			t.Errorf("the English queues: %q", queue)
		}
	})
	// The month's open data count the requests by kind and outcome, each
	// below 5 and so suppressed, in files that validate against the
	// schema written beside them.
	t.Run("open data", func(t *testing.T) {
		want := map[string]map[string]bool{}
		for _, rec := range filed {
			month := rec.Filed.In(operators.Rome).Format("2006-01")
			if want[month] == nil {
				want[month] = map[string]bool{}
			}
			got, err := read(rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			want[month][rec.Kind+"/"+got.Status] = true
		}
		for month, types := range want {
			out := t.TempDir()
			h.run(t, "opendata", "export", "--data", h.data, "--month", month, "--out", out)
			b, err := os.ReadFile(filepath.Join(out, "schema.json"))
			if err != nil {
				t.Fatal(err)
			}
			var schema opendata.Schema
			if err := json.Unmarshal(b, &schema); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(filepath.Join(out, month, "requests.csv"))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if errs := schema.Validate(rows); errs != nil {
				t.Errorf("requests.csv of %s: %v", month, errs)
			}
			for _, row := range rows[1:] {
				// month, district, channel, type, count, suppressed
				if row[2] != "counter" || row[4] != "" || row[5] != "true" {
					t.Errorf("requests.csv of %s publishes %q: the test filed fewer than 5 of each at a counter", month, row)
				}
				delete(types, row[3])
			}
			if len(types) != 0 {
				t.Errorf("requests.csv of %s lacks %v:\n%q", month, types, rows)
			}
		}
	})
	t.Run("protocol register", func(t *testing.T) {
		days := map[string][][]string{}
		for _, rec := range filed {
			day := rec.Filed.In(operators.Rome).Format("2006-01-02")
			if days[day] == nil {
				out := filepath.Join(t.TempDir(), day+".csv")
				h.run(t, "protocol", "export", "--data", h.data, "--day", day, "--out", out)
				f, err := os.Open(out)
				if err != nil {
					t.Fatal(err)
				}
				rows, err := csv.NewReader(f).ReadAll()
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				days[day] = rows
			}
			found := false
			for _, row := range days[day] {
				// numero, …, tipo_documento, sha256_documento, riferimento
				if len(row) > 10 && row[3] == rec.Protocol {
					found = row[5] == "entrata" && row[8] == "istanza anagrafica" && row[9] == rec.SHA256 && row[10] == rec.ID
					if !found {
						t.Errorf("the register's line of %s: %q", rec.Protocol, row)
					}
				}
			}
			if !found {
				t.Errorf("protocol %s (%s) is not in the register of %s", rec.Protocol, rec.Kind, day)
			}
		}
	})
}

// demoFilers picks, from the demo city (synth.Generate as hub serve
// --demo seeds it, confirmed in the running hub's registry), an Italian
// registered abroad (AIRE) who may come back, with a valid document and
// free to register a convivenza, and an adult resident with a valid
// document and nothing open.
func demoFilers(t *testing.T, h *hubProc) (aire, resident *registry.Person) {
	t.Helper()
	today := registry.DateOf(time.Now())
	var aires, residents []string
	err := synth.Generate(synth.Config{Persons: hub.DemoPersons, Seed: 1, Today: today, City: synth.DefaultCity()}, func(b *synth.Batch) error {
		for i, p := range b.Persons {
			_, valid := p.ValidDocument(today)
			if !valid || !p.Alive() || p.BirthDate.AgeAt(today) < 20 || p.CivilStatus == registry.Married || p.CivilStatus == registry.CivilUnion {
				continue
			}
			cur, ok := p.CurrentResidence()
			switch {
			case p.AIRE && ok && strings.HasPrefix(cur.Address.Comune, "Z"):
				aires = append(aires, p.CF)
			case !p.AIRE && ok && cur.Address.Comune == "F205" && b.Home(i) >= 0 && len(residents) < 20:
				residents = append(residents, p.CF)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pick := func(cfs []string, what string) *registry.Person {
		for _, cf := range cfs {
			if p, err := showPerson(t, h, cf); err == nil && p.ProcedureOpen.IsZero() {
				return p
			}
		}
		t.Fatalf("the demo city has no %s (candidates %v)", what, cfs)
		return nil
	}
	return pick(aires, "Italian abroad who may file"), pick(residents, "resident who may file")
}

// registryEvents are `hub person show --json`'s events of cf.
func registryEvents(t *testing.T, h *hubProc, cf string) []registry.Event {
	var out struct {
		Events []registry.Event `json:"events"`
	}
	if err := json.Unmarshal([]byte(h.run(t, "person", "show", "--data", h.data, "--cf", cf, "--json", "--purpose", "prova della console")), &out); err != nil {
		t.Fatal(err)
	}
	return out.Events
}

func eventKinds(t *testing.T, h *hubProc, cf string) []string {
	var kinds []string
	for _, e := range registryEvents(t, h, cf) {
		kinds = append(kinds, string(e.Kind))
	}
	return kinds
}

func eventNotes(t *testing.T, h *hubProc, cf, kind string) []string {
	var notes []string
	for _, e := range registryEvents(t, h, cf) {
		if string(e.Kind) == kind {
			notes = append(notes, e.Note+" ("+e.Act+")")
		}
	}
	return notes
}

// screenshotter saves full-page screenshots as docs/screenshots/admin-NAME.png
// when the tests run with -screenshots.
func screenshotter(t *testing.T) func(name string) chromedp.Action {
	return func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			if !*screenshots {
				return nil
			}
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
				return err
			}
			dir := filepath.Join(repoRoot(t), "docs", "screenshots")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "admin-"+name+".png"), buf, 0o644)
		})
	}
}
