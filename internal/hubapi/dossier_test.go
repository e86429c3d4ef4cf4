package hubapi

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
)

// A seeded citizen's dossier shows every section: their data and
// household, documents with expiry, the certificate a delegate obtained
// about them under their delegation (with the delegation's use), their
// request and appointment, the delegation received, and who read their
// data; the PDF says the same.
func TestDossierShowsEverySection(t *testing.T) {
	f := newLogFixture(t)
	ps := cieHolders(t, f, 2)
	me, friend := ps[0], ps[1]
	ctx := context.Background()
	// I delegate my friend for residence certificates, and my friend
	// delegates me for appointments.
	for _, g := range []struct {
		from, to string
		key      string
		scope    api.DelegationScope
		ev       api.RequesterEvidence
	}{
		{me.CF, friend.CF, "g1", api.DelegationScope{Certificates: []string{"residenza"}}, tapOf(me)},
		{friend.CF, me.CF, "g2", api.DelegationScope{Appointments: true}, tapOf(friend)},
	} {
		status, body := f.send(t, api.PathDelegations, g.key, api.DelegationRequest{Requester: g.ev, DelegateCF: g.to, Until: "2027-06-30", Scope: g.scope})
		if status != http.StatusCreated {
			t.Fatalf("give %s: %d %s", g.key, status, body)
		}
	}
	// My friend obtains my residence certificate at a counter.
	res, err := f.desk.Issue(ctx, issuance.Request{SubjectCF: me.CF, Evidence: f.desk.Evidence(t, friend.CF), Types: []string{"residenza"},
		Channel: certificate.Counter, Operator: issuance.Operator{ID: "op", Name: "Edicola Centrale"}, IdempotencyKey: "op/k1",
		Actor: audit.Actor{Kind: audit.Device, ID: f.keyID}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Record.DelegationID == "" {
		t.Fatal("the certificate names no delegation")
	}

	get := func() api.Dossier {
		status, body := f.send(t, api.PathDossier, "", api.DossierQuery{Requester: tapOf(me)})
		if status != http.StatusOK {
			t.Fatalf("dossier: %d %s", status, body)
		}
		var d api.Dossier
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// A request filed and an appointment booked, in the hub's store.
	filed := testNow.Add(-48 * time.Hour)
	err = f.desk.Stores.Update(ctx, func(tx store.Tx) error {
		r := &request.Request{ID: "R1", Kind: request.AddressChange, Protocol: "2026/0000042", Filed: filed, SHA256: "ab12",
			Channel: "self_service", Actor: "device:k1", RequesterCF: me.CF, Persons: []string{me.CF},
			Form:   request.Form{Address: &request.AddressForm{Persons: []string{me.CF}, NewAddress: request.NewAddress{Street: "Via Padova", Number: "12"}, Statement: true}},
			Status: request.Filed, History: []request.Event{{Time: filed, Actor: "device:k1", Action: request.ActionFiled}}}
		if err := tx.Requests().Create(r); err != nil {
			return err
		}
		o := &appointment.Office{ID: "centrale", Name: "Anagrafe centrale", Address: "Via Larga 12", Counters: []appointment.Counter{{Number: 1}},
			Calendars: []appointment.Calendar{{Service: appointment.CIERenewal, Minutes: 20, Counters: []int{1},
				Hours: []appointment.Hours{{Weekday: time.Thursday, From: "09:00", To: "12:00"}}}}}
		if err := tx.Appointments().PutOffice(o); err != nil {
			return err
		}
		return tx.Appointments().Book(&appointment.Booking{Ref: "A-7", OfficeID: "centrale", Service: appointment.CIERenewal,
			Start: time.Date(2026, 11, 26, 9, 0, 0, 0, protocol.Rome), Minutes: 20, CF: me.CF, Name: me.FullName(),
			Channel: appointment.Kiosk, By: f.keyID, State: appointment.Booked, Created: testNow, Updated: testNow}, []int{1})
	})
	if err != nil {
		t.Fatal(err)
	}
	d := get()
	if d.Person.CF != me.CF || d.Person.Address == "" || d.Person.BirthPlace == "" || len(d.Documents) == 0 || d.Documents[0].Expires == "" || d.Documents[0].State == "" {
		t.Errorf("person and documents: %+v %+v", d.Person, d.Documents)
	}
	if len(d.Certificates) != 1 || d.Certificates[0].ID != res.Record.ID || d.Certificates[0].Delegation != res.Record.DelegationID ||
		d.Certificates[0].RequesterCF != friend.CF || !d.Certificates[0].CopyAvailable {
		t.Errorf("certificates: %+v", d.Certificates)
	}
	if len(d.DelegationsGiven) != 1 || len(d.DelegationsGiven[0].Uses) != 1 || d.DelegationsGiven[0].Uses[0].Ref != res.Record.ID {
		t.Errorf("delegations given: %+v", d.DelegationsGiven)
	}
	if len(d.DelegationsReceived) != 1 || d.DelegationsReceived[0].DelegatorCF != friend.CF {
		t.Errorf("delegations received: %+v", d.DelegationsReceived)
	}
	if len(d.Requests) != 1 || d.Requests[0].Protocol != "2026/0000042" || len(d.Appointments) != 1 || d.Appointments[0].Office != "Anagrafe centrale" {
		t.Errorf("requests %+v, appointments %+v", d.Requests, d.Appointments)
	}
	kinds := map[string]bool{}
	for _, l := range d.AccessLog {
		kinds[l.Kind] = true
	}
	if !kinds["certificate"] || d.AccessTotal < 2 {
		t.Errorf("access log: %d lines of %d, kinds %v", len(d.AccessLog), d.AccessTotal, kinds)
	}
	if len(d.Household) == 0 {
		t.Logf("%s lives alone", me.CF)
	}

	status, pdf := f.send(t, api.PathDossierPDF, "", api.DossierQuery{Requester: tapOf(me)})
	if status != http.StatusOK || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("dossier PDF: %d %.200s", status, pdf)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "fascicolo.pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("SPORTELLO_DOSSIER_PDF"); out != "" {
		os.WriteFile(out, pdf, 0o644) // to look at with pdftoppm
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	text, err := exec.Command("pdftotext", "-layout", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(string(text)), " ")
	for _, want := range []string{"Fascicolo del cittadino", me.CF, "I miei dati", "La mia famiglia anagrafica", "I miei documenti",
		"Certificati rilasciati", res.Record.Protocol, "con la delega " + res.Record.DelegationID, "Le mie pratiche", "2026/0000042",
		"I miei appuntamenti", "Rinnovo carta d'identità elettronica", "Deleghe che ho conferito", "Deleghe che ho ricevuto", "Chi ha consultato i miei dati"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the PDF does not say %q:\n%s", want, text)
		}
	}
}
