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
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/issuance"
)

// fakeRequests and fakeAppointments stand in for the requests' and the
// appointments' packages in the dossier until they are wired.
type fakeRequests []api.DossierRequest

func (f fakeRequests) RequestsOf(context.Context, string) ([]api.DossierRequest, error) {
	return f, nil
}

type fakeAppointments []api.DossierAppointment

func (f fakeAppointments) AppointmentsOf(context.Context, string) ([]api.DossierAppointment, error) {
	return f, nil
}

// A seeded citizen's dossier shows every section: their data and
// household, documents with expiry, the certificate a delegate obtained
// about them under their delegation (with the delegation's use), requests
// and appointments, the delegation received, and who read their data; the
// PDF says the same. Without requests and appointments wired the two
// sections say they are not available.
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
	d := get()
	if d.Requests.Available || d.Appointments.Available || !strings.Contains(d.Requests.Note, "non disponibile") {
		t.Errorf("with nothing wired: requests %+v, appointments %+v", d.Requests, d.Appointments)
	}

	filed := testNow.Add(-48 * time.Hour)
	f.server.DossierRequests = fakeRequests{{ID: "R1", Protocol: "2026/0000042", Kind: "cambio_indirizzo", Title: "Cambio di indirizzo", Filed: filed, Status: "in esame"}}
	f.server.DossierAppointments = fakeAppointments{{Ref: "A-7", Service: "Rinnovo CIE", Office: "Anagrafe centrale", At: testNow.Add(72 * time.Hour), Status: "prenotato"}}
	d = get()
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
	if !d.Requests.Available || len(d.Requests.Items) != 1 || !d.Appointments.Available || len(d.Appointments.Items) != 1 {
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
		"Certificati rilasciati", res.Record.Protocol, "con la delega " + res.Record.DelegationID, "Le mie pratiche", "Cambio di indirizzo",
		"I miei appuntamenti", "Rinnovo CIE", "Deleghe che ho conferito", "Deleghe che ho ricevuto", "Chi ha consultato i miei dati"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the PDF does not say %q:\n%s", want, text)
		}
	}
}
