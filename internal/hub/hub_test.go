package hub_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/hub/hubtest"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/pgtest"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

var pg pgtest.Shared

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// One handler serves the kiosk API, the console and the public pages of a
// hub the constructor built, on either backend: a device enrolled with a
// code staff issued gets a certificate over signed HTTP, whose record,
// audit entry (in an intact, anchored chain) and public verification page
// are there, and the console's log-in page is served beside them.
func TestOneHandlerOnBothBackends(t *testing.T) {
	t.Run("bbolt", func(t *testing.T) { exercise(t, hubtest.New(t, hubtest.Configure(clerkOptional))) })
	t.Run("postgres", func(t *testing.T) {
		exercise(t, hubtest.New(t, hubtest.Database(pg.Database(t)), hubtest.Configure(clerkOptional)))
	})
}

// clerkOptional spares the test a clerk's log-in, which hubapi's tests
// cover.
func clerkOptional(c *hub.Config) { c.ClerkOptional = true }

func exercise(t *testing.T, h *hubtest.Hub) {
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
	cf := resident(t, h)
	ev := issuancetest.DocumentEvidence(t, h.Registry, cf, now)
	cert, err := c.IssueCertificate(ctx, hubclient.CertificateRequest{CF: cf, Types: []string{"residenza"}, Requester: issuancetest.API(ev)})
	if err != nil {
		t.Fatal(err)
	}
	if cert.Protocol == "" || cert.TotalCents <= 0 {
		t.Fatalf("certificate %+v: no protocol or no fee", cert)
	}
	err = h.Stores.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Certificates().Get(cert.ID)
		if err == nil && (rec.SubjectCF != cf || rec.OperatorID != hub.DemoShopID) {
			t.Errorf("record %s is for %s at %s, want %s at %s", rec.ID, rec.SubjectCF, rec.OperatorID, cf, hub.DemoShopID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	es, err := h.AuditLog().Search(audit.Query{Subject: cf}, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range es {
		found = found || e.Request == cert.ID
	}
	if !found {
		t.Errorf("no audit entry names certificate %s among %d entries about %s", cert.ID, len(es), cf)
	}
	if _, err := h.AuditLog().Verify(); err != nil {
		t.Errorf("the audit chain does not verify: %v", err)
	}
	// The citizen's access log, served from the store whatever records
	// into it, shows the certificate.
	tap := issuancetest.CIETap(t, virtual.Genuine, prof.KeyID, issuancetest.CIENIS(t, h.Registry, cf, now), now, true)
	log, err := c.AccessLog(ctx, api.AccessLogRequest{Requester: *issuancetest.API(tap)})
	if err != nil {
		t.Fatal(err)
	}
	shown := false
	for _, l := range log.Lines {
		shown = shown || strings.Contains(l.Reference, cert.Protocol)
	}
	if !shown {
		t.Errorf("the access log of %s does not show protocol %s: %+v", cf, cert.Protocol, log.Lines)
	}
	if body := get(t, h.URL+"/v/"+cert.ID); !strings.Contains(body, cert.Protocol) {
		t.Errorf("the verification page does not show protocol %s", cert.Protocol)
	}
	if body := get(t, h.URL+"/admin/login"); !strings.Contains(body, "<form") {
		t.Errorf("the console's log-in page has no form")
	}
}

// resident is a living resident holding a valid CIE today.
func resident(t *testing.T, h *hubtest.Hub) string {
	t.Helper()
	var cf string
	today := registry.DateOf(h.Clock.Now())
	err := h.Registry.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			if _, res := p.CurrentResidence(); !res || !p.Alive() || p.AIRE || p.PartlyCertifiable {
				return true, nil
			}
			for _, d := range p.Documents {
				if d.Kind == registry.CIE && d.NIS != "" && d.ValidOn(today) {
					cf = p.CF
					return false, nil
				}
			}
			return true, nil
		})
	})
	if err != nil || cf == "" {
		t.Fatalf("no resident with a valid document (%v)", err)
	}
	return cf
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b)
}
