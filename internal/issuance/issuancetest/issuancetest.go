// Package issuancetest builds a working certificate desk for tests: a
// seeded registry in a temporary bbolt file, the hub's keys, the stores of
// issued certificates and the audit log, all on a fixed clock.
package issuancetest

import (
	"context"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/audit/anchorlog"
	"github.com/sportello/sportello/internal/blob/blobdir"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/identify"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/seal"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/synth"
)

// Desk is a desk over its own hub file.
type Desk struct {
	*issuance.Service
	Store *registrybolt.Store
	// Audit is the desk's audit log, store-neutral, for tests that search
	// or write it; the Service records through the same store.
	Audit AuditLog
	// Residents are the codici fiscali of living residents with an address
	// (not AIRE, fully certifiable), in registry order: subjects any
	// residenza request accepts.
	Residents []string
}

// AuditLog is a hub's audit log whatever its store: searched and verified
// through store.AuditLog, written through store.Recorder, each call a
// transaction of its own.
type AuditLog struct {
	store.AuditLog
	store.Recorder
}

// New seeds a city of persons residents with seed and assembles the desk,
// whose clock always says now. The file is closed when the test ends.
func New(tb testing.TB, persons int, seed int64, now time.Time) *Desk {
	tb.Helper()
	return NewIn(tb, tb.TempDir(), persons, seed, now)
}

// NewIn is New with the hub's file and keys in dir, an existing directory
// (a small file system a test fills, say).
func NewIn(tb testing.TB, dir string, persons int, seed int64, now time.Time) *Desk {
	tb.Helper()
	st, err := registrybolt.Open(filepath.Join(dir, "hub.db"), registrybolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	clock := func() time.Time { return now }
	cfg := synth.Config{Persons: persons, Seed: seed, Today: registry.DateOf(now), City: synth.DefaultCity()}
	if _, err := synth.Seed(context.Background(), st, cfg, nil); err != nil {
		tb.Fatal(err)
	}
	stores := bolt.New(st)
	blobs, err := blobdir.Open(filepath.Join(dir, "pdf"))
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := seal.LoadOrCreate(filepath.Join(dir, "keys"), clock)
	if err != nil {
		tb.Fatal(err)
	}
	// Every commit's audit head is anchored, as in the hub: the desk's
	// store is the anchoring one (store.AnchorAudit).
	anchors, err := anchorlog.Open(filepath.Join(dir, anchorlog.FileName))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { anchors.Close() })
	anchoring, err := store.AnchorAudit(context.Background(), stores, audit.NewAnchorer(keys.TokenKey, keys.KeyID, clock, audit.Head{}, anchors),
		func(err error) { tb.Errorf("audit anchor: %v", err) })
	if err != nil {
		tb.Fatal(err)
	}
	aud := AuditLog{AuditLog: store.AuditLog{S: anchoring}, Recorder: store.NewRecorder(anchoring, clock)}
	csca, err := virtual.TestCSCA()
	if err != nil {
		tb.Fatal(err)
	}
	d := &Desk{Store: st, Audit: aud, Service: &issuance.Service{
		Registry: st, Stores: anchoring, Blobs: blobs, Certs: store.CertificatesOf(anchoring, blobs), Keys: keys, PublicURL: "https://hub.example", Audit: aud.Recorder,
		// The virtual CIE's issuer is trusted, so CIETap's taps identify.
		Identify: &identify.Verifier{CSCAs: []*x509.Certificate{csca}},
		Issuer:   certificate.Issuer{Comune: "Comune di Milano", Belfiore: "F205", Place: "Milano"}, Now: clock,
	}}
	err = st.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			if _, ok := p.CurrentResidence(); ok && p.Alive() && !p.AIRE && !p.PartlyCertifiable {
				d.Residents = append(d.Residents, p.CF)
			}
			return true, nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// Evidence is document evidence for the person with codice fiscale cf,
// valid on the desk's registry today: the usual way a test's requester is
// identified at a counter.
func (d *Desk) Evidence(tb testing.TB, cf string) identify.Evidence {
	tb.Helper()
	return DocumentEvidence(tb, d.Store, cf, d.Now())
}

// Identifiable are the first n of Residents holding a valid identity
// document today, so each can be the requester of a certificate about
// themself; the test fails when there are fewer.
func (d *Desk) Identifiable(tb testing.TB, n int) []string {
	tb.Helper()
	var cfs []string
	err := d.Store.View(context.Background(), func(r registry.Reader) error {
		for _, cf := range d.Residents {
			if len(cfs) == n {
				break
			}
			p, err := r.PersonByCF(cf)
			if err != nil {
				return err
			}
			if _, ok := p.ValidDocument(registry.DateOf(d.Now())); ok {
				cfs = append(cfs, cf)
			}
		}
		return nil
	})
	if err != nil || len(cfs) < n {
		tb.Fatalf("%d residents with a valid document, want %d (%v)", len(cfs), n, err)
	}
	return cfs
}
