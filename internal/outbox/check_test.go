package outbox

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// TestCheckFile: an intact outbox checks clean with or without its key; a
// changed byte in a sealed payload is found with the key (the seal does
// not open), one in a clear payload with or without it (the fingerprint),
// and a print job that was altered does not open.
func TestCheckFile(t *testing.T) {
	ctx := context.Background()
	o, path := openTest(t, Options{Key: testKey})
	personal, err := o.Enqueue(ctx, Op{Kind: "certificate.request", IdempotencyKey: "k-1", Payload: []byte(`{"cf":"RSSMRA80A01F205X"}`), PersonalData: true, AmountCents: 1852})
	if err != nil {
		t.Fatal(err)
	}
	clear, err := o.Enqueue(ctx, Op{Kind: "fee.record", IdempotencyKey: "k-2", Payload: []byte(`{"fee":100}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.PutJob(Job{ID: "job-1", Data: []byte("%PDF-1.7 certificate")}); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	for _, key := range [][]byte{testKey, nil} {
		c, err := CheckFile(path, key)
		if err != nil || len(c.Problems) != 0 || c.Pending != 2 || c.Jobs != 1 || c.Opened != (key != nil) {
			t.Fatalf("intact outbox, key %v: %+v, %v", key != nil, c, err)
		}
	}

	alter := func(bucket []byte, k []byte) {
		db, err := bbolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucket)
			v := append([]byte(nil), b.Get(k)...)
			v[len(v)-3] ^= 0x04
			return b.Put(k, v)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	alter(bPayload, idKey(personal.ID))
	alter(bPayload, idKey(clear.ID))
	// A job is JSON around its sealed bytes: the bit is flipped in those
	// bytes, not in their base64 text, which a flip could make unreadable
	// ("does not decode") instead of altered.
	alterJob := func(k []byte) {
		db, err := bbolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bJobs)
			var sj sealedJob
			if err := json.Unmarshal(b.Get(k), &sj); err != nil {
				return err
			}
			sj.Data[len(sj.Data)-3] ^= 0x04
			v, err := json.Marshal(sj)
			if err != nil {
				return err
			}
			return b.Put(k, v)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	alterJob([]byte("job-1"))
	c, err := CheckFile(path, testKey)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(c.Problems, "\n")
	for _, want := range []string{"its sealed payload does not open", "no longer matches the fingerprint", `print job "job-1" does not open`} {
		if !strings.Contains(all, want) {
			t.Errorf("with the key, no %q among:\n%s", want, all)
		}
	}
	c, _ = CheckFile(path, nil)
	if len(c.Problems) != 1 || !strings.Contains(c.Problems[0], "fingerprint") {
		t.Errorf("without the key, want the clear payload's change only: %q", c.Problems)
	}
}
