package certificate_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/certificate/certtest"
)

func TestStoredRecordRoundTrip(t *testing.T) {
	r := certtest.Sample(42, 3)
	r.PDFDeleted = time.Date(2026, 4, 1, 3, 0, 0, 0, time.UTC)
	plain, _ := json.Marshal(&r)
	enc, err := certificate.EncodeRecord(&r)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) >= len(plain)/2 {
		t.Errorf("stored form %d bytes for %d of JSON: the dictionary does not help", len(enc), len(plain))
	}
	got, err := certificate.DecodeRecord(enc)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := json.Marshal(&got)
	if !bytes.Equal(back, plain) {
		t.Errorf("round trip:\n got %s\nwant %s", back, plain)
	}
	// Records written as plain JSON (bbolt files before this form) read.
	if old, err := certificate.DecodeRecord(plain); err != nil || old.ID != r.ID {
		t.Errorf("plain JSON: %v, %v", old.ID, err)
	}
	for _, bad := range [][]byte{nil, {0x01, 0xff, 0x00}, enc[:len(enc)/2], []byte("{not json")} {
		if _, err := certificate.DecodeRecord(bad); err == nil {
			t.Errorf("damaged record %x read without error", bad)
		}
	}
}

func BenchmarkEncodeRecord(b *testing.B) {
	r := certtest.Sample(42, 3)
	for b.Loop() {
		if _, err := certificate.EncodeRecord(&r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRecord(b *testing.B) {
	r := certtest.Sample(42, 3)
	enc, _ := certificate.EncodeRecord(&r)
	for b.Loop() {
		if _, err := certificate.DecodeRecord(enc); err != nil {
			b.Fatal(err)
		}
	}
}
