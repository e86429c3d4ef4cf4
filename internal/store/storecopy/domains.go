package storecopy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// batch is how many records one Update of the destination writes: the
// copy of a large city is many short transactions, not one that holds
// every row.
const batch = 5000

// The widest span of days the day-keyed views are asked about.
var (
	firstDay = protocol.Day{Year: 1, Month: time.January, Day: 1}
	lastDay  = protocol.Day{Year: 9999, Month: time.December, Day: 31}
)

// inBatches writes items into dst, batch of them an Update.
func inBatches[T any](ctx context.Context, dst store.Store, items []T, put func(store.Tx, T) error) error {
	for len(items) > 0 {
		n := min(batch, len(items))
		if err := dst.Update(ctx, func(tx store.Tx) error {
			for _, it := range items[:n] {
				if err := put(tx, it); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

// same compares two records as their JSON: what both backends store.
func same(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// City settings: one record.

func cityEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		c, err := tx.City().Get()
		empty = reflect.ValueOf(c).IsZero()
		return err
	})
	return empty, err
}

func copyCity(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	var c city.Config
	if err := src.View(ctx, func(tx store.Tx) (err error) { c, err = tx.City().Get(); return err }); err != nil {
		return nil, nil, err
	}
	if reflect.ValueOf(c).IsZero() {
		return Counts{{"city settings", "settings changed by staff", 0}}, nil, nil
	}
	if err := dst.Update(ctx, func(tx store.Tx) error { return tx.City().Put(c) }); err != nil {
		return nil, nil, err
	}
	var got city.Config
	if err := dst.View(ctx, func(tx store.Tx) (err error) { got, err = tx.City().Get(); return err }); err != nil {
		return nil, nil, err
	}
	if !same(got, c) {
		return nil, nil, fmt.Errorf("the settings read back from the destination differ from the source's")
	}
	return Counts{{"city settings", "settings changed by staff", 1}}, nil, nil
}

// Staff: accounts (with their password hashes) and the daily counters of
// refusals. Sessions are stored by their token's hash and cannot be
// listed: staff log in again on the new store. Failed log-in tallies are
// short-lived and stay behind.

func staffEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		as, err := tx.Staff().Accounts()
		if err != nil {
			return err
		}
		ev, err := tx.Staff().Events(firstDay, lastDay)
		empty = len(as) == 0 && len(ev) == 0
		return err
	})
	return empty, err
}

func copyStaff(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	var accounts []*staff.Account
	var events []staff.EventCount
	if err := src.View(ctx, func(tx store.Tx) (err error) {
		if accounts, err = tx.Staff().Accounts(); err != nil {
			return err
		}
		events, err = tx.Staff().Events(firstDay, lastDay)
		return err
	}); err != nil {
		return nil, nil, err
	}
	if err := inBatches(ctx, dst, accounts, func(tx store.Tx, a *staff.Account) error { return tx.Staff().PutAccount(a) }); err != nil {
		return nil, nil, err
	}
	total := 0
	if err := inBatches(ctx, dst, events, func(tx store.Tx, e staff.EventCount) error {
		for range e.Count {
			if err := tx.Staff().Count(e.Day, e.Kind, e.Reason); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	for _, e := range events {
		total += int(e.Count)
	}
	var gotAccounts []*staff.Account
	var gotEvents []staff.EventCount
	if err := dst.View(ctx, func(tx store.Tx) (err error) {
		if gotAccounts, err = tx.Staff().Accounts(); err != nil {
			return err
		}
		gotEvents, err = tx.Staff().Events(firstDay, lastDay)
		return err
	}); err != nil {
		return nil, nil, err
	}
	if !same(gotAccounts, accounts) {
		return nil, nil, fmt.Errorf("%w, or they differ", mismatch("staff accounts", len(accounts), len(gotAccounts)))
	}
	if !same(gotEvents, events) {
		return nil, nil, fmt.Errorf("%w, or they differ", mismatch("daily refusal counters", len(events), len(gotEvents)))
	}
	return Counts{{"staff", "accounts", len(accounts)}, {"staff", "refusals counted", total}},
		Skipped{"staff console sessions stay behind (they are kept by their token's hash): staff log in again"}, nil
}

// Protocol register: store.CopyProtocol moves the entries under their
// numbers and times, the closed days with their closings, and the
// numbering on after them.

func protocolEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		ys, err := tx.Protocol().Years()
		if err != nil {
			return err
		}
		cs, err := tx.Protocol().Closings()
		empty = len(ys) == 0 && len(cs) == 0
		return err
	})
	return empty, err
}

func copyProtocol(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	n, err := store.CopyProtocol(ctx, dst, src)
	return Counts{{"protocol register", "entries", n.Entries}, {"protocol register", "closed days", n.Closed}}, nil, err
}

// Certificates: every record kept, as it is (revoked, PDF deleted…), with
// its idempotency key and contrassegno. Records purged by retention left
// only a marker, which no view lists; they stay behind.

// farFuture is a cutoff after every certificate: ExpiredRecords(farFuture)
// counts them all.
var farFuture = time.Date(9999, time.January, 1, 0, 0, 0, 0, time.UTC)

func certificatesEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		n, err := tx.Certificates().ExpiredRecords(farFuture)
		empty = n == 0
		return err
	})
	return empty, err
}

// allCertificates reads every record of c, day by day, in day and
// protocol order.
func allCertificates(c certificate.Tx) ([]certificate.Record, error) {
	var all []certificate.Record
	since := time.Time{}
	for {
		at, ok, err := c.OldestIssued(since)
		if err != nil || !ok {
			return all, err
		}
		d := protocol.DayOf(at)
		rs, err := c.ByDay(d)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
		since = d.End()
	}
}

func copyCertificates(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	var recs []certificate.Record
	want := 0
	if err := src.View(ctx, func(tx store.Tx) (err error) {
		if want, err = tx.Certificates().ExpiredRecords(farFuture); err != nil {
			return err
		}
		recs, err = allCertificates(tx.Certificates())
		return err
	}); err != nil {
		return nil, nil, err
	}
	if len(recs) != want {
		return nil, nil, fmt.Errorf("the source counts %d certificates but %d were read day by day", want, len(recs))
	}
	if err := inBatches(ctx, dst, recs, func(tx store.Tx, r certificate.Record) error { return tx.Certificates().Put(r) }); err != nil {
		return nil, nil, err
	}
	var got []certificate.Record
	if err := dst.View(ctx, func(tx store.Tx) (err error) { got, err = allCertificates(tx.Certificates()); return err }); err != nil {
		return nil, nil, err
	}
	if len(got) != len(recs) {
		return nil, nil, mismatch("certificates", len(recs), len(got))
	}
	for i := range got {
		if !same(got[i], recs[i]) {
			return nil, nil, fmt.Errorf("certificate %s reads back from the destination different from the source's", recs[i].ID)
		}
	}
	// What retention kept of the certificates it purged: the id and the
	// day, so the verification page still answers for them.
	var purged []certificate.Purged
	if err := src.View(ctx, func(tx store.Tx) (err error) {
		c, ok := tx.Certificates().(certificate.PurgedCopier)
		if !ok {
			return errors.New("the source cannot list its purged certificates")
		}
		purged, err = c.AllPurged()
		return err
	}); err != nil {
		return nil, nil, err
	}
	if len(purged) > 0 {
		if err := inBatches(ctx, dst, purged, func(tx store.Tx, p certificate.Purged) error {
			c, ok := tx.Certificates().(certificate.PurgedCopier)
			if !ok {
				return errors.New("the destination cannot take purged certificates")
			}
			return c.RestorePurged([]certificate.Purged{p})
		}); err != nil {
			return nil, nil, err
		}
	}
	var gotPurged []certificate.Purged
	if err := dst.View(ctx, func(tx store.Tx) (err error) {
		gotPurged, err = tx.Certificates().(certificate.PurgedCopier).AllPurged()
		return err
	}); err != nil {
		return nil, nil, err
	}
	if len(gotPurged) != len(purged) {
		return nil, nil, mismatch("purged certificates", len(purged), len(gotPurged))
	}
	for i := range gotPurged {
		if !same(gotPurged[i], purged[i]) {
			return nil, nil, fmt.Errorf("purged certificate %s reads back from the destination different from the source's", purged[i].ID)
		}
	}
	return Counts{{"certificates", "records", len(recs)}, {"certificates", "purged", len(purged)}},
		Skipped{"the certificates' PDFs are not in the database: those in the data directory's pdf folder serve as they are (give the hubs --pdf-dir there), those an older release kept inside hub.db stay there"}, nil
}

// Audit log: the entries are appended to the empty destination in their
// order with their own times, which rebuilds the same chain (a hash
// covers the entry and the one before it, nothing of the backend) and
// the same daily anchors; the destination's head must then be the
// source's, which is checked, and its chain is verified.

func auditEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		h, err := tx.Audit().Head()
		empty = h.Seq == 0
		return err
	})
	return empty, err
}

func copyAudit(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	var entries []audit.Entry
	var head audit.Head
	var anchors []audit.Anchor
	if err := src.View(ctx, func(tx store.Tx) error {
		a := tx.Audit()
		p, err := a.Pruned()
		if err != nil {
			return err
		}
		if !p.IsZero() {
			return fmt.Errorf("the source's audit log was pruned through entry %d by retention; a pruned log cannot be rebuilt entry by entry", p.Through.Seq)
		}
		if head, err = a.Head(); err != nil {
			return err
		}
		if anchors, err = a.Anchors(); err != nil {
			return err
		}
		return a.Search(audit.Query{}, func(e audit.Entry) (bool, error) { entries = append(entries, e); return true, nil })
	}); err != nil {
		return nil, nil, err
	}
	if uint64(len(entries)) != head.Seq {
		return nil, nil, fmt.Errorf("the source's audit log ends at entry %d but %d entries were read", head.Seq, len(entries))
	}
	if err := inBatches(ctx, dst, entries, func(tx store.Tx, e audit.Entry) error {
		got, err := tx.Audit().Append(e)
		if err == nil && got.Seq != e.Seq {
			err = fmt.Errorf("entry %d was appended as %d", e.Seq, got.Seq)
		}
		return err
	}); err != nil {
		return nil, nil, err
	}
	var gotHead audit.Head
	var gotAnchors []audit.Anchor
	var n int
	if err := dst.View(ctx, func(tx store.Tx) (err error) {
		a := tx.Audit()
		if gotHead, err = a.Verify(anchors...); err != nil {
			return err
		}
		if n, err = a.Count(); err != nil {
			return err
		}
		gotAnchors, err = a.Anchors()
		return err
	}); err != nil {
		return nil, nil, err
	}
	switch {
	case n != len(entries):
		return nil, nil, mismatch("audit entries", len(entries), n)
	case gotHead != head:
		return nil, nil, fmt.Errorf("the copied audit log ends at %s, the source's at %s", gotHead, head)
	case len(gotAnchors) != len(anchors):
		return nil, nil, mismatch("daily audit anchors", len(anchors), len(gotAnchors))
	}
	for i := range anchors {
		if gotAnchors[i].Day != anchors[i].Day || gotAnchors[i].Head != anchors[i].Head {
			return nil, nil, fmt.Errorf("the copied audit log's anchor %s differs from the source's %s", gotAnchors[i], anchors[i])
		}
	}
	return Counts{{"audit log", "entries", n}, {"audit log", "daily anchors", len(anchors)}}, nil, nil
}

// Notices: every queued item with its deliveries. A settled item's text
// and address were dropped (notify.Tx.Settle); it is queued with a
// placeholder text and settled again at once, so it reads back as it was.

// settledText stands in for a settled item's dropped text while it is
// queued; Settle removes it in the same transaction.
var settledText = strings.Repeat(".", notify.MarkdownMin)

func noticesEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		items, err := tx.Notices().List()
		empty = len(items) == 0
		return err
	})
	return empty, err
}

func copyNotices(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	var items []notify.Item
	if err := src.View(ctx, func(tx store.Tx) (err error) { items, err = tx.Notices().List(); return err }); err != nil {
		return nil, nil, err
	}
	if err := inBatches(ctx, dst, items, func(tx store.Tx, it notify.Item) error {
		q := tx.Notices()
		settled := it.Message.Markdown == ""
		if settled {
			it.Message.Markdown = settledText
		}
		if err := q.Enqueue(it); err != nil {
			return err
		}
		for ch, d := range it.Deliveries {
			if err := q.Mark(it.ID, ch, d); err != nil {
				return err
			}
		}
		if settled {
			return q.Settle(it.ID)
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	var got []notify.Item
	if err := dst.View(ctx, func(tx store.Tx) (err error) { got, err = tx.Notices().List(); return err }); err != nil {
		return nil, nil, err
	}
	if len(got) != len(items) {
		return nil, nil, mismatch("notices", len(items), len(got))
	}
	byID := make(map[string]notify.Item, len(got))
	for _, it := range got {
		byID[it.ID] = it
	}
	for _, it := range items {
		if !same(byID[it.ID], it) {
			return nil, nil, fmt.Errorf("notice %s reads back from the destination different from the source's", it.ID)
		}
	}
	return Counts{{"notices", "queued notifications", len(items)}}, nil, nil
}

// Payments: every payment, created again oldest first (so each request
// key names its latest payment, as in the source) and then put as it is
// now (paid, used by its certificate, cancelled…).

func paymentsEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		ps, err := tx.Payments().All()
		empty = len(ps) == 0
		return err
	})
	return empty, err
}

func copyPayments(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	var ps []payment.Payment
	if err := src.View(ctx, func(tx store.Tx) (err error) { ps, err = tx.Payments().All(); return err }); err != nil {
		return nil, nil, err
	}
	if err := inBatches(ctx, dst, ps, func(tx store.Tx, p payment.Payment) error {
		created := p
		if err := tx.Payments().Create(&created); err != nil {
			return fmt.Errorf("payment %s: %w", p.ID, err)
		}
		return tx.Payments().Put(&p)
	}); err != nil {
		return nil, nil, err
	}
	var got []payment.Payment
	if err := dst.View(ctx, func(tx store.Tx) (err error) { got, err = tx.Payments().All(); return err }); err != nil {
		return nil, nil, err
	}
	if len(got) != len(ps) {
		return nil, nil, mismatch("payments", len(ps), len(got))
	}
	for i := range got {
		if !same(got[i], ps[i]) {
			return nil, nil, fmt.Errorf("payment %s reads back from the destination different from the source's", ps[i].ID)
		}
	}
	return Counts{{"payments", "payments", len(ps)}}, nil, nil
}

// Operators: every operator and clerk under its own id (operators.Restorer),
// with each operator's enrolment codes, devices and their last backlog
// report. Clerks' sessions stay behind: clerks log in again at their
// kiosks, as staff do at the console.

// operatorsOf is everything the operators' view holds but sessions.
type operatorsOf struct {
	ops      []*operators.Operator
	codes    []operators.EnrolmentCode
	devices  []*operators.Device
	backlogs []operators.Backlog
	clerks   []*operators.Clerk
}

func readOperators(tx store.Tx) (all operatorsOf, err error) {
	v := tx.Operators()
	if all.ops, err = v.Operators(); err != nil {
		return all, err
	}
	for _, o := range all.ops {
		codes, err := v.Codes(o.ID)
		if err != nil {
			return all, err
		}
		all.codes = append(all.codes, codes...)
		devices, err := v.Devices(o.ID)
		if err != nil {
			return all, err
		}
		all.devices = append(all.devices, devices...)
		for _, d := range devices {
			b, err := v.Backlog(d.KeyID)
			if err != nil {
				return all, err
			}
			if b != nil {
				all.backlogs = append(all.backlogs, *b)
			}
		}
	}
	all.clerks, err = v.Clerks("")
	// A backend answers none with nil, another with an empty list: the
	// same for a copy.
	all.ops, all.codes, all.devices = orEmpty(all.ops), orEmpty(all.codes), orEmpty(all.devices)
	all.backlogs, all.clerks = orEmpty(all.backlogs), orEmpty(all.clerks)
	return all, err
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func operatorsEmpty(ctx context.Context, s store.Store) (empty bool, err error) {
	err = s.View(ctx, func(tx store.Tx) error {
		all, err := readOperators(tx)
		empty = len(all.ops) == 0 && len(all.clerks) == 0
		return err
	})
	return empty, err
}

func copyOperators(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	var all operatorsOf
	if err := src.View(ctx, func(tx store.Tx) (err error) { all, err = readOperators(tx); return err }); err != nil {
		return nil, nil, err
	}
	err := dst.Update(ctx, func(tx store.Tx) error {
		v := tx.Operators()
		for _, o := range all.ops {
			if err := v.RestoreOperator(o); err != nil {
				return fmt.Errorf("operator %s: %w", o.ID, err)
			}
		}
		for _, c := range all.codes {
			if err := v.PutCode(c); err != nil {
				return fmt.Errorf("an enrolment code of operator %s: %w", c.OperatorID, err)
			}
		}
		for _, d := range all.devices {
			if err := v.AddDevice(d); err != nil {
				return fmt.Errorf("device %s: %w", d.KeyID, err)
			}
		}
		for _, b := range all.backlogs {
			if err := v.PutBacklog(b); err != nil {
				return fmt.Errorf("the backlog report of device %s: %w", b.KeyID, err)
			}
		}
		for _, c := range all.clerks {
			if err := v.RestoreClerk(c); err != nil {
				return fmt.Errorf("clerk %s: %w", c.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var got operatorsOf
	if err := dst.View(ctx, func(tx store.Tx) (err error) { got, err = readOperators(tx); return err }); err != nil {
		return nil, nil, err
	}
	for _, c := range []struct {
		what     string
		src, dst int
	}{
		{"operators", len(all.ops), len(got.ops)},
		{"enrolment codes", len(all.codes), len(got.codes)},
		{"devices", len(all.devices), len(got.devices)},
		{"backlog reports", len(all.backlogs), len(got.backlogs)},
		{"clerks", len(all.clerks), len(got.clerks)},
	} {
		if c.src != c.dst {
			return nil, nil, mismatch(c.what, c.src, c.dst)
		}
	}
	for _, c := range []struct {
		what     string
		src, dst any
	}{{"operators", all.ops, got.ops}, {"enrolment codes", all.codes, got.codes}, {"devices", all.devices, got.devices},
		{"backlog reports", all.backlogs, got.backlogs}, {"clerks", all.clerks, got.clerks}} {
		if !same(c.src, c.dst) {
			a, _ := json.Marshal(c.src)
			b, _ := json.Marshal(c.dst)
			return nil, nil, fmt.Errorf("the %s read back from the destination differ from the source's:\n%s\n%s", c.what, a, b)
		}
	}
	return Counts{
			{"operators", "operators", len(all.ops)}, {"operators", "enrolment codes", len(all.codes)},
			{"operators", "devices", len(all.devices)}, {"operators", "backlog reports", len(all.backlogs)},
			{"operators", "clerks", len(all.clerks)},
		}, Skipped{"clerks' sessions at the kiosks (each clerk logs in again)"},
		nil
}

// Limits' alerts: every alert, open or reviewed, under its own id
// (limits.Restorer), so staff find on the new store what they were
// reviewing and the reviews they made. The day's counts are not moved:
// they last a day, and a city moves its hubs with the hubs stopped.

func alertsEmpty(ctx context.Context, s store.Store) (bool, error) {
	as, err := s.Limits().Alerts(ctx)
	return len(as) == 0, err
}

func copyAlerts(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	as, err := src.Limits().Alerts(ctx)
	if err != nil || len(as) == 0 {
		return Counts{{"limits", "alerts", 0}}, nil, err
	}
	r, ok := dst.Limits().(limits.Restorer)
	if !ok {
		return nil, nil, fmt.Errorf("the destination cannot take alerts under their own ids")
	}
	// Alerts lists newest first: restored oldest first.
	old := slices.Clone(as)
	slices.Reverse(old)
	if err := r.RestoreAlerts(ctx, old); err != nil {
		return nil, nil, err
	}
	got, err := dst.Limits().Alerts(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(got) != len(as) {
		return nil, nil, mismatch("alerts", len(as), len(got))
	}
	for i := range got {
		if !same(got[i], as[i]) {
			return nil, nil, fmt.Errorf("alert %s reads back from the destination different from the source's", as[i].ID)
		}
	}
	return Counts{{"limits", "alerts", len(as)}}, nil, nil
}
