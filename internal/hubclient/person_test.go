package hubclient_test

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/registry"
)

// TestIdentify asks the hub's real handler, over a seeded registry, to
// identify a resident by a CIE tap and by codice fiscale with document, and
// checks what the hub wrote in its audit log: the look-up reached it as
// asked. Every failure is the hub's one refusal, identification_failed.
func TestIdentify(t *testing.T) {
	d := issuancetest.New(t, 120, 5, now)
	var who *registry.Person
	var cie registry.Document
	d.Store.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			doc, ok := p.ValidDocument(registry.DateOf(now))
			if _, res := p.CurrentResidence(); ok && res && doc.Kind == registry.CIE && p.Family != 0 && p.Alive() && !p.AIRE {
				who, cie = p, doc
				return false, nil
			}
			return true, nil
		})
	})
	if who == nil {
		t.Fatal("no resident with a valid CIE in the seeded registry")
	}
	devPub, devPriv, _ := ed25519.GenerateKey(nil)
	hubPub, hubPriv, _ := ed25519.GenerateKey(nil)
	srv := httptest.NewServer((&hubapi.Server{Store: d.Store, Desk: d.Service, Now: clock, Log: slog.New(slog.DiscardHandler),
		Verifier:       &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "dev-1", Key: devPub}, Clock: clock},
		HubSigner:      &httpsig.Signer{Key: hubPriv, KeyID: "hub", Clock: clock},
		DeviceOperator: func(context.Context, string) (issuance.Operator, error) { return issuance.Operator{ID: "op-1"}, nil },
	}).Handler())
	t.Cleanup(srv.Close)
	c := &hubclient.Client{Clock: clock, Profile: &hubclient.Profile{HubURL: srv.URL, KeyID: "dev-1", DeviceKey: devPriv.Seed(), HubKey: hubPub, HubKeyID: "hub"}}

	tap := *issuancetest.API(issuancetest.CIETap(t, virtual.Genuine, "dev-1", cie.NIS, clock(), true))
	doc := api.RequesterEvidence{Method: api.EvidenceDocument, CF: who.CF, Document: cie.Number}
	other := doc
	other.Document = "XX00000XX"
	tests := []struct {
		name    string
		q       api.IdentifyRequest
		reason  string // the hub's refusal; "" for a person
		channel string // as the audit log records it
	}{
		{"by CIE tap", api.IdentifyRequest{Requester: tap, Channel: api.ChannelSelfService}, "", "self_service"},
		{"by CF and document", api.IdentifyRequest{Requester: doc}, "", "counter"},
		{"no evidence", api.IdentifyRequest{}, api.ReasonRequesterEvidenceRequired, ""},
		{"another document", api.IdentifyRequest{Requester: other}, api.ReasonIdentificationFailed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := c.Identify(context.Background(), tt.q)
			if tt.reason != "" {
				if !isReason(err, tt.reason) {
					t.Fatalf("err %v, want the hub's refusal %s", err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.CF != who.CF || p.Surname != who.Surname || p.BirthDate != who.BirthDate.String() {
				t.Errorf("person %+v, want %s %s", p, who.CF, who.Surname)
			}
			// What they may have reaches the kiosk on either channel: a
			// living person, so no death certificate, for the reason the
			// hub would refuse it with; each member judged too.
			if e := p.Eligibility; e == nil || !slices.Contains(e.Missing, api.TypeMissing{Type: string(certificate.Morte), Reason: certificate.ReasonNotDeceased}) {
				t.Errorf("eligibility %+v, want morte missing for not_deceased", e)
			}
			for _, m := range p.Family {
				if m.Eligibility == nil {
					t.Errorf("no eligibility for the member %s", m.CF)
				}
			}
			es, err := d.Audit.Search(audit.Query{Subject: who.CF}, 0)
			if err != nil || len(es) == 0 {
				t.Fatalf("no audit entry for the subject: %v", err)
			}
			if last := es[len(es)-1]; last.Channel != tt.channel || last.Actor.ID != "dev-1" {
				t.Errorf("last audit entry for the subject: %+v; want channel %s by dev-1", last, tt.channel)
			}
		})
	}
}
