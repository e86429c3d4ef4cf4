package outbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sportello/sportello/internal/outbox"
)

func Example() {
	dir, _ := os.MkdirTemp("", "outbox")
	defer os.RemoveAll(dir)
	deviceKey := []byte("a 32-byte device key from enrol!")
	o, err := outbox.Open(filepath.Join(dir, "outbox.db"), outbox.Options{Key: deviceKey, MaxAmountCents: 50_000})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer o.Close()

	// The counter: the screen says "queued" only once Enqueue returns.
	e, err := o.Enqueue(context.Background(), outbox.Op{
		Kind: "certificate.request", IdempotencyKey: "0b7c6f1e-residenza",
		Payload: []byte(`{"cf":"RSSMRA80A01F205X","types":["residenza"]}`), PersonalData: true, AmountCents: 200,
	})
	if err != nil {
		fmt.Println(err) // e.g. an offline limit, in a sentence for the operator
		return
	}
	st, _ := o.Stats()
	fmt.Println("queued:", st.Pending, "amount:", st.AmountCents, "claim code length:", len(e.ClaimCode))

	// The hub client: a real one signs the request and maps the status
	// with outbox.ClassifyHTTP.
	hub := outbox.DelivererFunc(func(ctx context.Context, e outbox.Entry) (outbox.Result, error) {
		return outbox.Result{Ref: "CERT-1"}, nil
	})
	s := o.NewSender(hub, outbox.SenderOptions{OnResult: func(oc outbox.Outcome) {
		fmt.Println("print:", oc.Entry.State, oc.Result.Ref)
	}})
	s.Drain(context.Background()) // Run(ctx) in the kiosk

	// The citizen comes back with the receipt.
	back, _ := o.Lookup(e.ClaimCode)
	fmt.Println("lookup:", back.State, back.ResultRef, back.Payload == nil)
	// Output:
	// queued: 1 amount: 200 claim code length: 11
	// print: delivered CERT-1
	// lookup: delivered CERT-1 true
}
