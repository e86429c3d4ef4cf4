package kiosk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/outbox"
	"github.com/sportello/sportello/printer"
)

func TestQueuedRoundTrip(t *testing.T) {
	req := IssueRequest{Key: "kiosk-abc", SubjectCF: cfMaria, Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia},
		Exemption: fees.Exemption{Code: 99, Text: "art. 1 legge"}, RequesterCF: cfMario, Channel: certificate.SelfService}
	dir := t.TempDir()
	ob, err := outbox.Open(filepath.Join(dir, "o.db"), outbox.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	q := &Queue{Outbox: ob}
	claim, err := q.Enqueue(context.Background(), req, 1652)
	if err != nil || claim == "" {
		t.Fatalf("enqueue: %q %v", claim, err)
	}
	if n, _ := q.Pending(); n != 1 {
		t.Fatalf("pending %d", n)
	}
	// The sender hands the hub exactly what was confirmed, and a refusal
	// leaves the queue as refused rather than retried for ever.
	hub := newFakeHub(testNow)
	if _, err := ob.NewSender(Deliverer(hub), outbox.SenderOptions{}).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(hub.issued) != 1 || !reflect.DeepEqual(hub.issued[0], req) {
		t.Fatalf("delivered %+v, want %+v", hub.issued, req)
	}
	hub.refuse = &Refusal{Status: 422, Reason: "not_eligible", Message: "no"}
	q.Enqueue(context.Background(), IssueRequest{Key: "kiosk-def", SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}}, 0)
	ob.NewSender(Deliverer(hub), outbox.SenderOptions{}).Drain(context.Background())
	if st, _ := ob.Stats(); st.Pending != 0 || st.Refused != 1 {
		t.Errorf("after a refusal: %+v", st)
	}
	if _, err := DecodeQueued([]byte("{")); err == nil {
		t.Error("a broken payload decoded")
	}
}

func TestDirTransport(t *testing.T) {
	d := &DirTransport{Dir: filepath.Join(t.TempDir(), "out")}
	for _, j := range []printer.Job{{ID: "a", Format: printer.FormatPDF, Data: []byte("%PDF")}, {ID: "b", Format: printer.FormatESCPOS, Data: []byte{0x1b, 0x40}}} {
		if err := d.Send(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{"a.pdf": "%PDF", "b.bin": "\x1b@"} {
		if b, err := os.ReadFile(filepath.Join(d.Dir, name)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v", name, b, err)
		}
	}
	if _, err := d.Status(context.Background()); !errors.Is(err, printer.ErrNoStatus) {
		t.Errorf("status: %v", err)
	}
}
