package receipt

import (
	"bytes"
	"testing"
	"time"

	"github.com/sportello/sportello/printer/escpos"
)

func TestFilingReceipt(t *testing.T) {
	prof, err := escpos.Lookup("tm-t20", 80)
	if err != nil {
		t.Fatal(err)
	}
	f := Filing{Shop: "Edicola Loreto", OperatorID: "op-0001", Title: "Cambio di indirizzo nel Comune", Protocol: "2026/0000042",
		Filed: time.Date(2026, 12, 5, 13, 5, 0, 0, time.UTC), SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Status: "protocollata, in esame", Lang: Italian}
	b, err := EncodeFiling(f, prof)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RICEVUTA DI PRESENTAZIONE", "2026/0000042", "05/12/2026 14:05", "9f86d081884c7d65", "Edicola Loreto"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("the receipt lacks %q", want)
		}
	}
	f.Protocol = ""
	if _, err := EncodeFiling(f, prof); err == nil {
		t.Error("a receipt with no protocol number was printed")
	}
}
