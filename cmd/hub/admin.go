package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sportello/sportello/internal/admin"
	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/identify"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// DemoStaffPassword is the password of the demo's staff accounts (admin,
// clerk, finance, auditor), printed at start-up. Demo data only.
const DemoStaffPassword = "sportello-demo"

// adminConsole mounts the staff console and the public pages on the API.
// With demo it makes, on first start, one staff account per role and a
// month of certificates from the demo shops, so settlements and charts
// have something to show.
func (c *cli) adminConsole(h *hubFile, api *hubapi.Server, desk *issuance.Service, demo bool, log *slog.Logger) error {
	st := h.staff(c.now)
	if api.Operators == nil {
		return errors.New("the console needs the operator store")
	}
	if demo {
		if err := c.seedDemoStaff(st); err != nil {
			return err
		}
		if err := seedDemoCertificates(h, desk, api, c.now(), log); err != nil {
			return fmt.Errorf("cannot issue the demo certificates: %w", err)
		}
	}
	kit, err := c.kitSections(h, true)
	if err != nil {
		return err
	}
	con := &admin.Console{
		Stores: h.stores, Staff: st, Operators: api.Operators, Certs: desk.Certs,
		City: desk.Issuer.Place, FeeCapCents: hubPolicy.FeeCapCents, Settings: h.city, Limits: api.Limits, Now: c.now, Log: log,
		Kit: kit, Appointments: api.Appointments,
	}
	if h.notices != nil {
		con.Notices = h.notices
	}
	con.Requests = api.Requests
	api.Admin = con.Wrap
	go purgeSessions(st, log)
	return nil
}

// purgeSessions drops dead sessions now and then; a live hub would
// otherwise keep every session ever opened.
func purgeSessions(st *staff.Service, log *slog.Logger) {
	for {
		if n, err := st.PurgeSessions(); err != nil {
			log.Warn("admin: cannot purge sessions", "err", err)
			return
		} else if n > 0 {
			log.Info("admin: sessions purged", "count", n)
		}
		time.Sleep(time.Hour)
	}
}

func (c *cli) seedDemoStaff(st *staff.Service) error {
	as, err := st.Accounts()
	if err != nil {
		return err
	}
	if len(as) == 0 {
		for _, d := range []struct {
			user, name string
			role       staff.Role
		}{{"admin", "Amministratore demo", staff.Admin}, {"clerk", "Addetto anagrafe demo", staff.Clerk},
			{"finance", "Ragioneria demo", staff.Finance}, {"auditor", "Revisore demo", staff.Auditor}} {
			a, err := staff.NewAccount(nil, d.user, d.name, d.role, DemoStaffPassword, c.now(), demoStaff)
			if err != nil {
				return err
			}
			if err := st.Add(a, false); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(c.stdout, "staff log-in: admin / %s (also clerk, finance, auditor) at /admin/\n", DemoStaffPassword)
	return nil
}

// seedDemoCertificates issues, once, certificates from the active demo
// shops on the days of this month so far, through the real desk with its
// clock set back, so every record, protocol entry and PDF is genuine.
func seedDemoCertificates(h *hubFile, desk *issuance.Service, api *hubapi.Server, now time.Time, log *slog.Logger) error {
	today := protocol.DayOf(now)
	first := protocol.Day{Year: today.Year, Month: today.Month, Day: 1}
	var existing int
	for d := first; ; {
		recs, err := desk.Certs.ByDay(d)
		if err != nil {
			return err
		}
		existing += len(recs)
		if d == today {
			break
		}
		d = protocol.DayOf(d.Start().Add(36 * time.Hour))
	}
	if existing > 0 {
		return nil
	}
	ops, err := api.Operators.List()
	if err != nil {
		return err
	}
	var shops []*operators.Operator
	for _, o := range ops {
		if o.Status == operators.Active && o.Agreement != nil {
			shops = append(shops, o)
		}
	}
	// Each demo citizen asks about themself and is identified as at a
	// real counter: their document, or at self-service a tap of a virtual
	// CIE carrying their NIS, which the demo hub trusts.
	var cfs []string
	docs := map[string]registry.Document{}
	var table *places.Table
	if err := h.View(context.Background(), func(r registry.Reader) error {
		var err error
		if table, err = placeTable(r); err != nil {
			return err
		}
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			doc, ok := p.ValidDocument(registry.DateOf(first.Start()))
			if _, res := p.CurrentResidence(); ok && res && p.Alive() && !p.AIRE && !p.PartlyCertifiable && p.BirthDate.Time().Before(now.AddDate(-18, 0, 0)) {
				cfs = append(cfs, p.CF)
				docs[p.CF] = doc
			}
			return len(cfs) < 400, nil
		})
	}); err != nil {
		return err
	}
	if len(shops) == 0 || len(cfs) == 0 {
		return nil
	}
	csca, err := virtual.TestCSCA()
	if err != nil {
		return err
	}
	trust := &identify.Verifier{CSCAs: []*x509.Certificate{csca}}
	rng := rand.New(rand.NewPCG(1, uint64(today.Year*100+int(today.Month))))
	issued, refused := 0, 0
	for d := first; ; {
		// The protocol register numbers in time order, so the day's
		// issuances happen in time order too.
		times := make([]time.Time, 2+rng.IntN(5))
		for i := range times {
			times[i] = d.Start().Add(time.Duration(8*60+rng.IntN(10*60)) * time.Minute)
		}
		slices.SortFunc(times, time.Time.Compare)
		for _, at := range times {
			if at.After(now) {
				break
			}
			shop := shops[rng.IntN(len(shops))]
			t := shop.Agreement.Types[rng.IntN(len(shop.Agreement.Types))]
			ex := 0
			if rng.IntN(8) == 0 {
				ex = 1 + rng.IntN(10)
			}
			subj := cfs[rng.IntN(len(cfs))]
			doc := docs[subj]
			channel := certificate.Counter
			ev := identify.Evidence{Method: identify.Document, CF: subj, Document: doc.Number}
			if rng.IntN(6) == 0 && doc.NIS != "" && !doc.Expires.Before(registry.DateOf(at)) {
				channel = certificate.SelfService
				if ev, err = demoTap(doc.NIS, at); err != nil {
					return err
				}
			}
			req := issuance.Request{SubjectCF: subj, Types: []string{string(t)}, Exemption: fees.Exemption{Code: ex}, Channel: channel,
				Evidence: ev, Operator: issuance.Operator{ID: shop.ID, ServiceCents: int64(shop.Agreement.FeeCents)}}
			clock := func() time.Time { return at }
			back := &issuance.Service{Registry: desk.Registry, Stores: desk.Stores, Blobs: desk.Blobs, Certs: desk.Certs, Keys: desk.Keys, Issuer: desk.Issuer,
				PublicURL: desk.PublicURL, Policy: desk.Policy, Now: clock, Log: slog.New(slog.DiscardHandler), Identify: trust}
			if a, ok := back.Stores.(*store.Anchoring); ok {
				// The backfill is synthetic history, read by no one: as
				// before, it records no audit entries (the desk records
				// one only through an anchoring store or its Audit).
				back.Stores = a.Store
			}
			back.SetPlaces(table)
			back.Payments = desk.Payments
			if channel == certificate.SelfService {
				// Self-service prints only what is paid (issue 15): the
				// demo's kiosk customers paid at the shop's till.
				if err := demoPay(back, api, &req, clock, issued+refused); err != nil {
					var ref *certificate.Refusal
					if errors.As(err, &ref) {
						refused++
						continue
					}
					return err
				}
			}
			if _, err := back.Issue(context.Background(), req); err != nil {
				var ref *certificate.Refusal
				if errors.As(err, &ref) {
					refused++
					continue
				}
				return err
			}
			issued++
		}
		if d == today {
			break
		}
		d = protocol.DayOf(d.Start().Add(36 * time.Hour))
	}
	log.Info("demo certificates issued", "issued", issued, "refused", refused)
	return nil
}

// demoPay takes and confirms at the shop's till the payment of the demo's
// self-service request req, the n-th of the demo, and names it in req.
func demoPay(back *issuance.Service, api *hubapi.Server, req *issuance.Request, clock func() time.Time, n int) error {
	if api.Payments == nil {
		return nil
	}
	ctx := context.Background()
	req.IdempotencyKey = fmt.Sprintf("%s/demo-%d", req.Operator.ID, n)
	priced, err := back.Price(ctx, *req)
	if err != nil || priced.TotalCents <= 0 {
		return err
	}
	pays := &payment.Service{Store: api.Payments.Store, Now: clock}
	p, _, err := pays.Create(ctx, payment.Order{Method: payment.Till, AmountCents: priced.TotalCents, RequestKey: req.IdempotencyKey,
		RequestHash: priced.Hash, DeviceKeyID: demoDevice, OperatorID: req.Operator.ID, Types: priced.Types, SubjectName: priced.SubjectName,
		SubjectCF: req.SubjectCF})
	if err != nil {
		return err
	}
	if _, err := pays.ConfirmTill(req.Operator.ID, p.TillCode, demoStaff, "Demo"); err != nil {
		return err
	}
	req.PaymentID = p.ID
	return nil
}

// demoDevice is the key id the demo's self-service taps are bound to.
const demoDevice = "demo-kiosk"

// demoTap is a virtual CIE's tap carrying nis at the given time, with its
// PIN proved, as a self-service kiosk sends it.
func demoTap(nis string, at time.Time) (identify.Evidence, error) {
	card, err := virtual.New(virtual.Config{NIS: nis})
	if err != nil {
		return identify.Evidence{}, err
	}
	nonce := make([]byte, cie.TapNonceSize)
	binary.BigEndian.PutUint64(nonce, uint64(at.Unix()))
	tap, err := cie.ReadTap(context.Background(), card, demoDevice, bytes.NewReader(nonce), at)
	if err != nil {
		return identify.Evidence{}, err
	}
	return identify.Evidence{Method: identify.CIE, Device: demoDevice, NIS: tap.NIS, Kpub: tap.Kpub, SOD: tap.SOD,
		TapNonce: tap.Nonce, TappedAt: tap.TappedAt, Response: tap.Response, PINProved: true}, nil
}

// staff is the console's operations on the hub's storage: on a database
// several hubs share, a session opened on one is valid on all.
func (h *hubFile) staff(now func() time.Time) *staff.Service {
	return staff.NewService(store.Domain(h.stores, store.Tx.Staff), now)
}
