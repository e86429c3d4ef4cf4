package hubapi_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/hub/hubtest"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// The API as hub serve builds it (hub.New): a counter request with no
// clerk logged in is refused with clerk_login_required; the shop's clerk
// logs in with their CIE, and the certificate then issued names them.
func TestCounterNeedsAClerkThroughTheConstructor(t *testing.T) {
	h := hubtest.New(t)
	ctx := context.Background()
	now := h.Clock.Now()
	if err := hub.AddDemoOperators(h.Operators, now); err != nil {
		t.Fatal(err)
	}
	code, _, err := h.Operators.IssueCode(hub.DemoShopID, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	c := &hubclient.Client{Clock: h.Clock.Now}
	prof, err := c.Enrol(ctx, h.URL, code, "Cassa 1")
	if err != nil {
		t.Fatal(err)
	}
	holders := cieHolders(t, h, 2)
	clerkCF, subject := holders[0], holders[1]
	today := registry.DateOf(now)
	if err := h.Operators.AddClerk(&operators.Clerk{CF: clerkCF, Name: "Addetto di prova", OperatorID: hub.DemoShopID,
		Trained: registry.DateOf(today.Time().AddDate(0, -1, 0)), EnabledUntil: registry.DateOf(today.Time().AddDate(1, 0, 0))}, "test"); err != nil {
		t.Fatal(err)
	}
	req := hubclient.CertificateRequest{CF: subject, Types: []string{"residenza"},
		Requester: issuancetest.API(issuancetest.DocumentEvidence(t, h.Registry, subject, now))}
	var ref *api.Refusal
	if _, err := c.IssueCertificate(ctx, req); !errors.As(err, &ref) || ref.Reason != api.ReasonClerkLoginRequired {
		t.Fatalf("a counter request with no clerk: %v, want %s", err, api.ReasonClerkLoginRequired)
	}
	tap := issuancetest.CIETap(t, virtual.Genuine, prof.KeyID, issuancetest.CIENIS(t, h.Registry, clerkCF, now), now, true)
	sess, err := c.LogInClerk(ctx, api.ClerkLogin{CIE: issuancetest.API(tap)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetClerk(sess.Token)
	cert, err := c.IssueCertificate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	err = h.Stores.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Certificates().Get(cert.ID)
		if err == nil && rec.ClerkID != sess.ClerkID {
			t.Errorf("certificate %s names clerk %q, want %q who logged in", rec.ID, rec.ClerkID, sess.ClerkID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// cieHolders are the first n living residents holding a valid CIE.
func cieHolders(t *testing.T, h *hubtest.Hub, n int) []string {
	t.Helper()
	var cfs []string
	today := registry.DateOf(h.Clock.Now())
	err := h.Registry.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			if _, res := p.CurrentResidence(); !res || !p.Alive() || p.AIRE || p.PartlyCertifiable || p.BirthDate.Time().After(h.Clock.Now().AddDate(-18, 0, 0)) {
				return true, nil
			}
			for _, d := range p.Documents {
				if d.Kind == registry.CIE && d.NIS != "" && d.ValidOn(today) {
					cfs = append(cfs, p.CF)
					break
				}
			}
			return len(cfs) < n, nil
		})
	})
	if err != nil || len(cfs) < n {
		t.Fatalf("%d residents with a CIE, want %d (%v)", len(cfs), n, err)
	}
	return cfs
}
