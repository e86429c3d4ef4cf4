package storecopy_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/certificate/certtest"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/pgtest"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/store/postgres"
	"github.com/sportello/sportello/internal/store/storecopy"
)

var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// The domains the hub's command test does not fill move too: staff
// accounts with their password hashes and the refusal counters, queued
// notices (one delivered and settled, its text gone), payments (one paid), an audit log over
// two days (so a daily anchor); a copy into a store holding any of it is
// refused before anything is written.
func TestCopyBoltToPostgres(t *testing.T) {
	ctx := context.Background()
	src, err := bolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	day := time.Date(2026, time.March, 2, 9, 0, 0, 0, protocol.Rome)
	text := strings.Repeat("Il certificato richiesto è pronto. ", 4)
	err = src.Update(ctx, func(tx store.Tx) error {
		for _, a := range []*staff.Account{
			{User: "m.bianchi", Name: "Maria Bianchi", Role: staff.Admin, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"},
			{User: "l.rossi", Role: staff.Clerk, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdDI$aGFzaDI"},
		} {
			if err := tx.Staff().PutAccount(a); err != nil {
				return err
			}
		}
		for range 3 {
			if err := tx.Staff().Count(protocol.DayOf(day), "refusal", "ineligible"); err != nil {
				return err
			}
		}
		for i, at := range []time.Time{day, day.Add(time.Minute), day.Add(26 * time.Hour)} {
			if _, err := tx.Audit().Append(audit.Entry{Time: at, Actor: audit.Actor{Kind: "staff", ID: "m.bianchi"},
				Purpose: "rilascio certificato", Subject: fmt.Sprintf("RSSMRA80A01H501%c", 'A'+i), Data: "scheda anagrafica", Channel: "cli"}); err != nil {
				return err
			}
		}
		q := tx.Notices()
		for i, id := range []string{"cert-1", "cert-2"} {
			if err := q.Enqueue(notify.Item{ID: id, Enqueued: day.Add(time.Duration(i) * time.Minute),
				Message: notify.Message{CF: "RSSMRA80A01H501U", Email: "m@example.org", Subject: "Certificato pronto", Markdown: text}}); err != nil {
				return err
			}
		}
		if err := q.Mark("cert-1", "appio", notify.Delivery{State: notify.Sent, Attempts: 1, Receipt: "01ABC", SentAt: day.Add(time.Minute)}); err != nil {
			return err
		}
		if err := q.Settle("cert-1"); err != nil {
			return err
		}
		for i, id := range []string{"pay-2", "pay-1"} {
			p := &payment.Payment{ID: id, Method: payment.Till, State: payment.Pending, AmountCents: 1852, RequestKey: "op-1/k" + id,
				RequestHash: "h", DeviceKeyID: "dev-a", OperatorID: "op-1", TillCode: fmt.Sprintf("ABC23%d", i+4), Created: day.Add(time.Duration(i) * time.Minute),
				Expires: day.Add(time.Hour), Types: []string{"residenza"}, SubjectName: "Mario Rossi", SubjectCF: "RSSMRA50B17A558W"}
			if err := tx.Payments().Create(p); err != nil {
				return err
			}
		}
		p, err := tx.Payments().Get("pay-1")
		if err != nil {
			return err
		}
		p.State = payment.Paid
		if err := tx.Payments().Put(&p); err != nil {
			return err
		}
		// Two shops, the second with a code, an enrolled device that
		// reported its queue, and a clerk.
		ops := tx.Operators()
		for _, n := range []string{"1", "2"} {
			if err := ops.AddOperator(&operators.Operator{LegalName: "Edicola " + n, PartitaIVA: "12345670157", Category: operators.Edicola,
				Address: operators.Address{Street: "Piazzale Loreto", Number: n, CAP: "20131", City: "Milano"}}); err != nil {
				return err
			}
		}
		if err := ops.PutCode(operators.EnrolmentCode{Hash: "c0de", OperatorID: "op-0002", IssuedBy: "staff:m.bianchi", IssuedAt: day, Expires: day.Add(72 * time.Hour), UsedAt: day.Add(time.Hour), UsedBy: "dev-a"}); err != nil {
			return err
		}
		pub, _, _ := ed25519.GenerateKey(nil)
		if err := ops.AddDevice(&operators.Device{KeyID: "dev-a", OperatorID: "op-0002", Name: "Cassa", PublicKey: pub, EnrolledAt: day.Add(time.Hour)}); err != nil {
			return err
		}
		if err := ops.PutBacklog(operators.Backlog{KeyID: "dev-a", Pending: 3}); err != nil {
			return err
		}
		return ops.AddClerk(&operators.Clerk{OperatorID: "op-0002", CF: "RSSMRA50B17A558W", Name: "Mario Rossi"})
	})
	if err != nil {
		t.Fatal(err)
	}
	// A certificate retention purged: its marker moves.
	purgedCert := certtest.Sample(1, 0)
	if err := src.Update(ctx, func(tx store.Tx) error {
		if err := tx.Certificates().Put(purgedCert); err != nil {
			return err
		}
		_, err := tx.Certificates().PurgeRecords(purgedCert.Issued.Add(time.Minute), purgedCert.Issued.AddDate(3, 0, 1), 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Two alerts: one reviewed by staff, one open.
	lim := src.Limits()
	for _, dev := range []string{"dev-a", "dev-b"} {
		if _, _, err := lim.Raise(ctx, limits.Alert{Kind: limits.Flood, Level: limits.LevelAlert, Device: dev, Shop: "op-0002",
			Figure: 40, Threshold: 30, Window: 10, Raised: day, Updated: day}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lim.Close(ctx, "dev-a", limits.Review{At: day.Add(time.Hour), By: "m.bianchi", Note: "fila alla cassa"}); err != nil {
		t.Fatal(err)
	}
	srcAlerts, err := lim.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := postgres.OpenStore(ctx, pg.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	n, skipped, err := storecopy.Copy(ctx, dst, src)
	if err != nil {
		t.Fatal(err)
	}
	got := n.String()
	for _, want := range []string{"staff: 2 accounts, 3 refusals counted", "audit log: 3 entries, 1 daily anchors", "notices: 2 queued notifications", "payments: 2 payments", "registry: 0 persons",
		"operators: 2 operators, 1 enrolment codes, 1 devices, 1 backlog reports, 1 clerks", "limits: 2 alerts", "certificates: 0 records, 1 purged"} {
		if !strings.Contains(got, want) {
			t.Errorf("the counts say\n%s\nwant %q", got, want)
		}
	}
	if len(skipped) == 0 {
		t.Error("the copy names nothing left behind; the sessions and the PDFs stay")
	}
	err = dst.View(ctx, func(tx store.Tx) error {
		a, err := tx.Staff().Account("m.bianchi")
		if err != nil || a.PasswordHash != "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA" || a.Role != staff.Admin {
			t.Errorf("m.bianchi reads back as %+v, %v", a, err)
		}
		it, err := tx.Notices().Get("cert-1")
		if err != nil || it.Message.Markdown != "" || it.Message.Email != "" || it.Delivery("appio").Receipt != "01ABC" {
			t.Errorf("the settled notice reads back as %+v, %v", it, err)
		}
		it, err = tx.Notices().Get("cert-2")
		if err != nil || it.Message.Markdown != text {
			t.Errorf("the queued notice reads back as %+v, %v", it, err)
		}
		e, err := tx.Audit().Get(2)
		if err != nil || e.Subject != "RSSMRA80A01H501B" || !e.Time.Equal(day.Add(time.Minute)) {
			t.Errorf("audit entry 2 reads back as %+v, %v", e, err)
		}
		if p, err := tx.Payments().Get("pay-1"); err != nil || p.State != payment.Paid || p.AmountCents != 1852 {
			t.Errorf("payment pay-1 reads back as %+v, %v", p, err)
		}
		if d, err := tx.Operators().Device("dev-a"); err != nil || d.OperatorID != "op-0002" || len(d.PublicKey) != ed25519.PublicKeySize {
			t.Errorf("device dev-a reads back as %+v, %v", d, err)
		}
		if c, err := tx.Operators().Clerk("cl-0001"); err != nil || c.OperatorID != "op-0002" {
			t.Errorf("clerk cl-0001 reads back as %+v, %v", c, err)
		}
		_, err = tx.Audit().Verify()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.View(ctx, func(tx store.Tx) error {
		_, err := tx.Certificates().Get(purgedCert.ID)
		var p *certificate.PurgedError
		if !errors.As(err, &p) || p.ID != purgedCert.ID {
			t.Errorf("the purged certificate reads on the destination as %v, want its marker", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := dst.Limits().Alerts(ctx); err != nil || !reflect.DeepEqual(got, srcAlerts) {
		t.Errorf("the alerts read back as %+v, %v; want %+v", got, err, srcAlerts)
	}
	// The next alert takes the next id, and dev-b's open one is updated,
	// not doubled.
	if a, _, err := dst.Limits().Raise(ctx, limits.Alert{Kind: limits.Flood, Level: limits.LevelAlert, Device: "dev-c", Raised: day, Updated: day}); err != nil || a.ID != "al-00000003" {
		t.Errorf("the first alert raised after the move: %+v, %v; want al-00000003", a, err)
	}
	if a, changed, err := dst.Limits().Raise(ctx, limits.Alert{Kind: limits.Flood, Level: limits.LevelSuspend, Device: "dev-b", Raised: day, Updated: day}); err != nil || a.ID != srcAlerts[0].ID || !changed {
		t.Errorf("a breach of dev-b after the move: %+v, %v, %v; want its open alert %s raised", a, changed, err, srcAlerts[0].ID)
	}
	// The database's sequences start after the moved ids.
	err = dst.Update(ctx, func(tx store.Tx) error {
		o := &operators.Operator{LegalName: "Tabaccheria", PartitaIVA: "12345670157", Category: operators.Tabaccheria,
			Address: operators.Address{Street: "Via Padova", Number: "1", CAP: "20127", City: "Milano"}}
		if err := tx.Operators().AddOperator(o); err != nil {
			return err
		}
		if o.ID != "op-0003" {
			t.Errorf("the first operator added after the move is %s, want op-0003", o.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := storecopy.Copy(ctx, dst, src); !errors.Is(err, storecopy.ErrNotEmpty) {
		t.Errorf("a second copy = %v, want ErrNotEmpty", err)
	}
}

// losing is a Store whose writes lose every notice but the first: what a
// destination that drops records looks like to the copy.
type losing struct{ store.Store }

func (l losing) Update(ctx context.Context, fn func(store.Tx) error) error {
	return l.Store.Update(ctx, func(tx store.Tx) error { return fn(losingTx{tx}) })
}

type losingTx struct{ store.Tx }

func (t losingTx) Notices() notify.Tx { return losingNotices{t.Tx.Notices()} }

type losingNotices struct{ notify.Tx }

func (q losingNotices) Enqueue(it notify.Item) error {
	if it.ID != "n-1" {
		return nil
	}
	return q.Tx.Enqueue(it)
}

func (q losingNotices) Mark(id, channel string, d notify.Delivery) error {
	if id != "n-1" {
		return nil
	}
	return q.Tx.Mark(id, channel, d)
}

// A destination that does not keep what it was given fails the copy by
// its count: the copy reads every domain back.
func TestCopyCountsMismatch(t *testing.T) {
	ctx := context.Background()
	src, err := bolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	at := time.Date(2026, time.March, 2, 9, 0, 0, 0, protocol.Rome)
	err = src.Update(ctx, func(tx store.Tx) error {
		for _, id := range []string{"n-1", "n-2"} {
			if err := tx.Notices().Enqueue(notify.Item{ID: id, Enqueued: at,
				Message: notify.Message{CF: "RSSMRA80A01H501U", Subject: "Certificato pronto", Markdown: strings.Repeat("testo ", 20)}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := bolt.Open(filepath.Join(t.TempDir(), "dst.db"), registrybolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	_, _, err = storecopy.Copy(ctx, losing{dst}, src)
	if err == nil || !strings.Contains(err.Error(), "the source holds 2 notices but the destination 1") {
		t.Errorf("a copy into a store that lost a notice = %v, want the counts' mismatch", err)
	}
}
