package hub

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
	"strings"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/identify"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/synth"
)

// DemoPersons is the size of the city the demo seeds on first start: big
// enough to browse and to find omocodes, small enough to start in seconds.
const DemoPersons = 3000

// DemoStaffPassword is the password of the demo's staff accounts (admin,
// clerk, finance, auditor), printed at start-up. Demo data only.
const DemoStaffPassword = "sportello-demo"

// seedDemoCity fills an empty registry with the demo city, once.
func seedDemoCity(ctx context.Context, st registry.Store, now time.Time, log *slog.Logger) error {
	var n int
	if err := st.View(ctx, func(r registry.Reader) (err error) { n, err = r.CountPersons(); return }); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	cfg := synth.Config{Persons: DemoPersons, Seed: 1, Today: registry.DateOf(now), City: synth.DefaultCity()}
	stats, err := synth.Seed(ctx, st, cfg, log)
	if err != nil {
		return fmt.Errorf("cannot seed the demo city: %w", err)
	}
	log.Info("demo city seeded", "persons", stats.Persons)
	return nil
}

func (h *Hub) seedDemoStaff() error {
	st := h.Staff
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
			a, err := staff.NewAccount(nil, d.user, d.name, d.role, DemoStaffPassword, h.now(), demoStaff)
			if err != nil {
				return err
			}
			if err := st.Add(a, false); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(h.cfg.Out, "staff log-in: admin / %s (also clerk, finance, auditor) at /admin/\n", DemoStaffPassword)
	return nil
}

// DemoKeysSince is the time the demo's keys are made as of, on a first
// start at now. seedDemoCertificates signs this month's past certificates
// with the desk's clock set back to their days; a seal certificate made at
// now would be younger than those signatures, and hub verify would refuse
// every one of them ("signing time outside of certificate validity"). So
// the demo makes its keys as if the hub had been running since the day
// before the month's first.
func DemoKeysSince(now time.Time) time.Time {
	today := protocol.DayOf(now)
	return protocol.Day{Year: today.Year, Month: today.Month, Day: 1}.Start().Add(-24 * time.Hour)
}

// seedDemoCertificates issues, once, certificates from the active demo
// shops on the days of this month so far, through the real desk with its
// clock set back, so every record, protocol entry and PDF is genuine.
func (h *Hub) seedDemoCertificates(ctx context.Context) error {
	desk, api, now, log := h.Desk, h.API, h.now(), h.log
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
	if err := h.cfg.Registry.View(ctx, func(r registry.Reader) error {
		var err error
		if table, err = PlaceTable(r); err != nil {
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
				if err := demoPay(back, api.Payments, &req, clock, issued+refused); err != nil {
					var ref *certificate.Refusal
					if errors.As(err, &ref) {
						refused++
						continue
					}
					return err
				}
			}
			if _, err := back.Issue(ctx, req); err != nil {
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
func demoPay(back *issuance.Service, till *payment.Service, req *issuance.Request, clock func() time.Time, n int) error {
	if till == nil {
		return nil
	}
	ctx := context.Background()
	req.IdempotencyKey = fmt.Sprintf("%s/demo-%d", req.Operator.ID, n)
	priced, err := back.Price(ctx, *req)
	if err != nil || priced.TotalCents <= 0 {
		return err
	}
	pays := &payment.Service{Store: till.Store, Now: clock}
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

// demoStaff signs the demo's records.
const demoStaff = "demo"

// seedDemoOperators adds, on first start, a few Milan shops and registry
// offices with their hours and transit lines, and one pending application.
// On every start it prints a fresh enrolment code for the demo shop's kiosk
// (codes are kept hashed, so an old one cannot be shown again).
func (h *Hub) seedDemoOperators(ctx context.Context) error {
	ops, log := h.Operators, h.log
	all, err := ops.List()
	if err != nil {
		return err
	}
	if len(all) == 0 {
		if err := AddDemoOperators(ops, h.now()); err != nil {
			return fmt.Errorf("cannot add the demo operators: %w", err)
		}
		log.Info("demo operators added")
	}
	code, _, err := ops.IssueCode(DemoShopID, demoStaff, 0)
	if err != nil {
		return fmt.Errorf("cannot issue the demo shop's enrolment code: %w", err)
	}
	fmt.Fprintf(h.cfg.Out, "enrolment code: %s\n", code)
	return h.seedDemoClerks(ctx, ops, log)
}

// DemoShopID is the first demo operator: the shop whose kiosk enrols.
const DemoShopID = "op-0001"

// AddDemoOperators adds the demo shops and offices to ops.
func AddDemoOperators(ops *operators.Service, now time.Time) error {
	today := registry.DateOf(now.In(operators.Rome))
	agreement := func(fee int, types ...certificate.Type) *operators.Agreement {
		return &operators.Agreement{
			Signed:   registry.DateOf(today.Time().AddDate(0, -2, 0)),
			Expires:  registry.DateOf(today.Time().AddDate(3, 0, 0)),
			FeeCents: fee, Types: types,
		}
	}
	all := certificate.Types()
	week := func(s string) operators.Hours {
		w, err := operators.ParseWeek(s)
		if err != nil {
			panic(err) // fixed demo data
		}
		return operators.Hours{Week: w}
	}
	type demo struct {
		o      *operators.Operator
		status operators.Status
	}
	demos := []demo{
		{&operators.Operator{LegalName: "Edicola Loreto di Giulia Ferrari", Name: "Edicola Loreto", PartitaIVA: "12345670157", Category: operators.Edicola,
			Address:   operators.Address{Street: "Piazzale Loreto", Number: "1", CAP: "20131", City: "Milano", Lat: 45.48593, Lon: 9.21652},
			Hours:     week("mon-fri 06:30-13:00 15:00-19:30; sat 06:30-13:00; sun 07:00-12:00"),
			Transit:   operators.Transit{Metro: []string{"M1", "M2"}, Stop: "Loreto", WalkMins: 1},
			Agreement: agreement(200, all...)}, operators.Active},
		{&operators.Operator{LegalName: "Tabaccheria Porta Romana S.n.c.", Name: "Tabacchi Porta Romana", PartitaIVA: "12345680156", Category: operators.Tabaccheria,
			Address:   operators.Address{Street: "Corso di Porta Romana", Number: "116", CAP: "20122", City: "Milano", Lat: 45.45175, Lon: 9.20237},
			Hours:     week("mon-sat 07:00-20:00"),
			Transit:   operators.Transit{Metro: []string{"M3"}, Stop: "Porta Romana", WalkMins: 2},
			Agreement: agreement(150, certificate.Residenza, certificate.StatoDiFamiglia, certificate.Cittadinanza, certificate.EsistenzaInVita)}, operators.Active},
		{&operators.Operator{LegalName: "Cartoleria Garibaldi di Luca Colombo", Name: "Cartoleria Garibaldi", PartitaIVA: "12345690155", Category: operators.Cartoleria,
			Address:   operators.Address{Street: "Corso Garibaldi", Number: "71", CAP: "20121", City: "Milano", Lat: 45.47797, Lon: 9.18487},
			Hours:     week("mon-fri 09:00-13:00 15:00-19:00; sat 09:30-12:30"),
			Transit:   operators.Transit{Metro: []string{"M2", "M5"}, Rail: []string{"S1", "S2", "S5", "S6", "S13"}, Stop: "Garibaldi FS", WalkMins: 6},
			Agreement: agreement(100, certificate.Residenza, certificate.StatoDiFamiglia)}, operators.Active},
		{&operators.Operator{LegalName: "Comune di Milano", Name: "Anagrafe centrale - Via Larga", PartitaIVA: "01199250158", Category: operators.RegistryOffice,
			Address: operators.Address{Street: "Via Larga", Number: "12", CAP: "20122", City: "Milano", Lat: 45.46127, Lon: 9.19398},
			Hours:   week("mon-fri 08:30-15:30"),
			Transit: operators.Transit{Metro: []string{"M1", "M3"}, Stop: "Duomo", WalkMins: 6}}, operators.Active},
		{&operators.Operator{LegalName: "Comune di Milano", Name: "Anagrafe Municipio 8 - Via Quarenghi", PartitaIVA: "01199250158", Category: operators.RegistryOffice,
			Address: operators.Address{Street: "Via Giacomo Quarenghi", Number: "21", CAP: "20151", City: "Milano", Lat: 45.49837, Lon: 9.12218},
			Hours:   week("mon-fri 08:30-13:30"),
			Transit: operators.Transit{Metro: []string{"M1"}, Stop: "Bonola", WalkMins: 8}}, operators.Active},
		{&operators.Operator{LegalName: "Edicola Città Studi di Paolo Galli", Name: "Edicola Città Studi", PartitaIVA: "12345700152", Category: operators.Edicola,
			Address:   operators.Address{Street: "Piazza Leonardo da Vinci", Number: "2", CAP: "20133", City: "Milano", Lat: 45.47857, Lon: 9.22726},
			Hours:     week("mon-sat 06:00-13:00"),
			Transit:   operators.Transit{Metro: []string{"M2"}, Stop: "Piola", WalkMins: 4},
			Agreement: agreement(200, certificate.Residenza)}, operators.Applied},
	}
	for _, d := range demos {
		if err := ops.Add(d.o, demoStaff); err != nil {
			return fmt.Errorf("%s: %w", d.o.DisplayName(), err)
		}
		if d.status == operators.Active {
			for _, st := range []operators.Status{operators.Approved, operators.Active} {
				if _, err := ops.SetStatus(d.o.ID, st, demoStaff, "demo programme"); err != nil {
					return fmt.Errorf("%s: %w", d.o.DisplayName(), err)
				}
			}
		}
	}
	if _, err := ops.Get(DemoShopID); err != nil {
		return errors.New("the demo shop did not get the expected id " + DemoShopID)
	}
	return nil
}

// seedDemoClerks enables, on first start, one clerk at each active demo
// shop: the first living resident with a family who holds a valid CIE, the
// one whose card the demo kiosk simulates (scripts/demo.sh and the kiosk's
// end-to-end tests pick it the same way), so the demo's clerk logs in with
// the virtual CIE and its PIN. On every start it says so.
func (h *Hub) seedDemoClerks(ctx context.Context, ops *operators.Service, log *slog.Logger) error {
	today := registry.DateOf(h.now().In(operators.Rome))
	var who *registry.Person
	var nis string
	if err := h.cfg.Registry.View(ctx, func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			if !p.Alive() || p.AIRE || p.Family == 0 {
				return true, nil
			}
			for _, d := range p.Documents {
				if d.Kind != registry.CIE || d.NIS == "" || !d.ValidOn(today) {
					continue
				}
				ms, err := r.Members(p.Family)
				if err != nil || len(ms) < 2 {
					return err == nil, err
				}
				who, nis = p, d.NIS
				return false, nil
			}
			return true, nil
		})
	}); err != nil {
		return err
	}
	if who == nil {
		return fmt.Errorf("no resident of the demo city holds a valid CIE to be its clerk")
	}
	existing, err := ops.Clerks("")
	if err != nil {
		return err
	}
	if len(existing) == 0 {
		all, err := ops.List()
		if err != nil {
			return err
		}
		for _, o := range all {
			if o.Status != operators.Active || o.Category == operators.RegistryOffice {
				continue
			}
			k := &operators.Clerk{CF: who.CF, Name: strings.TrimSpace(who.GivenNames + " " + who.Surname), OperatorID: o.ID,
				Trained:      registry.DateOf(today.Time().AddDate(0, -1, 0)),
				EnabledUntil: registry.DateOf(today.Time().AddDate(1, 0, 0))}
			if err := ops.AddClerk(k, demoStaff); err != nil {
				return fmt.Errorf("cannot enable the demo clerk at %s: %w", o.DisplayName(), err)
			}
		}
		log.Info("demo clerks enabled", "cf", who.CF)
	}
	fmt.Fprintf(h.cfg.Out, "demo clerk: %s %s (%s) logs in at the kiosk with the virtual CIE of NIS %s and PIN %s\n",
		who.GivenNames, who.Surname, who.CF, nis, virtual.DemoPIN)
	return nil
}

// seedDemoOffices gives the demo city two registry offices that book
// appointments, on its first start (when it has none), so that the
// kiosks and the console have calendars to show.
func (h *Hub) seedDemoOffices(ctx context.Context) error {
	s := h.API.Appointments
	have, err := s.Offices(ctx)
	if err != nil || len(have) > 0 {
		return err
	}
	weekdays := func(from, to string) []appointment.Hours {
		var hs []appointment.Hours
		for wd := time.Monday; wd <= time.Friday; wd++ {
			hs = append(hs, appointment.Hours{Weekday: wd, From: from, To: to})
		}
		return hs
	}
	offices := []*appointment.Office{
		{ID: "centrale", Name: "Anagrafe centrale", Address: "Via Larga 12",
			Counters: []appointment.Counter{{Number: 1}, {Number: 2}, {Number: 3}, {Number: 4, Name: "Sportello residenze"}, {Number: 5}},
			Calendars: []appointment.Calendar{
				{Service: appointment.CIEIssue, Minutes: 20, Counters: []int{1, 2}, Hours: weekdays("08:30", "12:30")},
				{Service: appointment.CIERenewal, Minutes: 20, Counters: []int{3}, Hours: append(weekdays("08:30", "12:30"), appointment.Hours{Weekday: time.Thursday, From: "14:00", To: "16:00"})},
				{Service: appointment.Residence, Minutes: 30, Counters: []int{4}, Hours: weekdays("09:00", "12:00")},
				{Service: appointment.Other, Minutes: 15, Counters: []int{5}, Hours: weekdays("08:30", "12:30")},
			}},
		{ID: "municipio-5", Name: "Anagrafe decentrata Municipio 5", Address: "Viale Tibaldi 41",
			Counters: []appointment.Counter{{Number: 1}, {Number: 2}},
			Calendars: []appointment.Calendar{
				{Service: appointment.CIERenewal, Minutes: 20, Counters: []int{1}, Hours: weekdays("08:45", "12:15")},
				{Service: appointment.Other, Minutes: 15, Counters: []int{2}, Hours: weekdays("08:45", "12:15")},
			}},
	}
	for _, o := range offices {
		if err := s.PutOffice(ctx, o); err != nil {
			return fmt.Errorf("cannot add the demo office %s: %w", o.ID, err)
		}
	}
	return nil
}
