package kiosk

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/printer/escpos"
	"github.com/sportello/sportello/printer/escpos/escposdec"
	"github.com/sportello/sportello/printer/receipt"
)

// receiptRig is a counter whose agreement registered the shop's operator
// by name, address and partita IVA.
func receiptRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t, Operator)
	cfg := Config{Mode: Operator, Shop: "Edicola Centrale", LegalName: "Bianchi Giornali S.r.l.", Address: "Via Roma 1, Milano",
		PartitaIVA: "01234567897", OperatorID: "op-1", ServiceCents: 150}
	var err error
	r.flow, err = New(cfg, Deps{Hub: r.hub, Reader: r.reader, Printers: r.prn, Outbox: r.out, Journal: r.journal, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// printed decodes a receipt as the shop's printer prints it.
func printed(t *testing.T, rc receipt.Receipt) string {
	t.Helper()
	p, err := escpos.Lookup("tm-t20", 80)
	if err != nil {
		t.Fatal(err)
	}
	b, err := receipt.Encode(rc, p)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := escposdec.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc.Text()
}

// TestReceiptFields: the counter receipt names the shop's registered
// operator, address and partita IVA from the agreement, the protocol
// number, the marca da bollo's number when one paid the bollo, and the
// hub's time (UTC on the wire) in Rome's. Before, it had the sign and the
// address only, no marca, and printed the hub's UTC time.
func TestReceiptFields(t *testing.T) {
	ctx := context.Background()
	r := receiptRig(t)
	identified(r)
	if err := r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Contrassegno: "01234567890123"}); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if len(r.prn.receipts) != 1 {
		t.Fatalf("%d receipts printed", len(r.prn.receipts))
	}
	text := printed(t, r.prn.receipts[0])
	// testNow is 10:30 UTC on 23 November: 11:30 in Rome (CET).
	for _, w := range []string{"Bianchi Giornali S.r.l.", "Via Roma 1, Milano", "P.IVA 01234567897", "23/11/2026 11:30",
		"Prot. 2026/0000001", "Contrassegno n. 01234567890123"} {
		if !strings.Contains(text, w) {
			t.Errorf("the receipt lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "COPIA") {
		t.Errorf("the first receipt says COPIA:\n%s", text)
	}
}

// TestReprintIsACopy: the operator's reprint prints the certificate and a
// receipt marked COPIA; the receipt-only reprint prints the receipt alone,
// marked COPIA, and no certificate. Before, a reprinted receipt was a
// second original and the receipt could not be reprinted alone.
func TestReprintIsACopy(t *testing.T) {
	ctx := context.Background()
	r := receiptRig(t)
	reviewed(r)
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if len(r.prn.a4) != 1 || len(r.prn.receipts) != 1 || r.prn.receipts[0].Copy {
		t.Fatalf("first print: %d certificates, receipts %+v", len(r.prn.a4), r.prn.receipts)
	}
	if err := r.flow.Reprint(ctx); err != nil {
		t.Fatal(err)
	}
	if len(r.prn.a4) != 2 || len(r.prn.receipts) != 2 || !r.prn.receipts[1].Copy {
		t.Fatalf("reprint: %d certificates, %d receipts, the second a copy: %v", len(r.prn.a4), len(r.prn.receipts), len(r.prn.receipts) > 1 && r.prn.receipts[1].Copy)
	}
	if text := printed(t, r.prn.receipts[1]); !strings.Contains(text, "COPIA") {
		t.Errorf("the reprinted receipt does not say COPIA:\n%s", text)
	}
	if err := r.flow.ReprintReceipt(ctx); err != nil {
		t.Fatal(err)
	}
	if len(r.prn.a4) != 2 || len(r.prn.receipts) != 3 || !r.prn.receipts[2].Copy {
		t.Errorf("receipt-only reprint: %d certificates (want 2), %d receipts (want 3, the last a copy)", len(r.prn.a4), len(r.prn.receipts))
	}
	r.step(t, StepDone)
	// Nothing to reprint before a sale.
	r.flow.Next()
	if err := r.flow.ReprintReceipt(ctx); err == nil {
		t.Error("a receipt reprinted on the identification screen")
	}
}
