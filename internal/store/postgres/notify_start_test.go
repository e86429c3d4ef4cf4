package postgres

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/store"
)

type countingNotifier struct{ sent *atomic.Int64 }

func (countingNotifier) Channel() string { return "appio" }
func (n countingNotifier) Send(context.Context, notify.Message) (notify.Receipt, error) {
	n.sent.Add(1)
	return notify.Receipt{ID: "r"}, nil
}

// A hub starting on a shared database does not send again a notification
// another hub's sender is sending right now (it holds the lease): the
// citizen would receive it twice.
func TestNotifyStartSparesAnotherHubsSend(t *testing.T) {
	ctx := context.Background()
	a := openHub(t)
	b := twin(t, a)
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	it := notify.Issued{CertificateID: "c1", Protocol: "2026/0000012", Title: "Certificato di residenza", Issued: at,
		SubjectCF: "RSSMRA50B17A558W", SubjectEmail: "mario.rossi@example.org", RequesterName: "ROSSI ANNA", Place: "Edicola Centrale"}.Item(at)
	if err := a.Update(ctx, func(tx store.Tx) error { return tx.Notices().Enqueue(it) }); err != nil {
		t.Fatal(err)
	}
	now := at.Add(time.Minute)
	// Hub a's sender claims the delivery and is sending it.
	seen := it.Delivery("appio")
	claim := seen
	claim.State, claim.Attempts, claim.NextAt = notify.Sending, 1, now.Add(90*time.Second)
	if won, err := store.NoticesOf(a).Claim(it.ID, "appio", seen, claim); err != nil || !won {
		t.Fatalf("hub a's claim: %v, %v", won, err)
	}
	// Hub b starts meanwhile.
	var sent atomic.Int64
	snd := &notify.Sender{Queue: store.NoticesOf(b), Notifiers: []notify.Notifier{countingNotifier{&sent}},
		Now: func() time.Time { return now.Add(time.Second) }, Log: slog.New(slog.DiscardHandler)}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	snd.Run(rctx, nil, nil)
	if n := sent.Load(); n != 0 {
		t.Fatalf("hub b, starting, sent %d time(s) the notification hub a is sending", n)
	}
}

// Two hubs whose clocks differ: hub b's runs three minutes ahead of hub
// a's, past the lease hub a's clock set, and must still not take over the
// send hub a is making.
func TestNotifyLeaseAcrossClockSkew(t *testing.T) {
	ctx := context.Background()
	a := openHub(t)
	b := twin(t, a)
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	it := notify.Issued{CertificateID: "c1", Protocol: "2026/0000012", Title: "Certificato di residenza", Issued: at,
		SubjectCF: "RSSMRA50B17A558W", SubjectEmail: "mario.rossi@example.org", RequesterName: "ROSSI ANNA", Place: "Edicola Centrale"}.Item(at)
	if err := a.Update(ctx, func(tx store.Tx) error { return tx.Notices().Enqueue(it) }); err != nil {
		t.Fatal(err)
	}
	aNow := at.Add(time.Minute)
	bNow := aNow.Add(3 * time.Minute)
	// Hub a's sender claims the delivery, as Sender.deliver does: a lease
	// of the send's timeout and a minute more, by a's clock.
	seen := it.Delivery("appio")
	claim := seen
	claim.State, claim.Attempts, claim.NextAt = notify.Sending, 1, aNow.Add(90*time.Second)
	if won, err := store.NoticesOf(a).Claim(it.ID, "appio", seen, claim); err != nil || !won {
		t.Fatalf("hub a's claim: %v, %v", won, err)
	}
	var sent atomic.Int64
	snd := &notify.Sender{Queue: store.NoticesOf(b), Notifiers: []notify.Notifier{countingNotifier{&sent}},
		Now: func() time.Time { return bNow }, Log: slog.New(slog.DiscardHandler)}
	if _, err := snd.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := sent.Load(); n != 0 {
		t.Fatalf("hub b, its clock ahead, sent %d time(s) the notification hub a is sending", n)
	}
}
