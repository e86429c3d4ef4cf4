// Package requestbolt keeps the demographic requests (package request) in
// the hub's bbolt file, so a request's record commits with its protocol
// entry and audit entry, and its decision with the registry's change.
//
// Layout (keys are byte strings; values JSON unless said):
//
//	req_records  request id → request.Request
//	req_keys     idempotency key → request id
//	req_person   codice fiscale ‖ 0x00 ‖ filed (8 bytes, Unix ns, big endian) ‖ request id → ∅
//	req_filed    filed (8 bytes) ‖ request id → ∅ (every request in filing order)
//	req_files    SHA-256 (hex) → the attachment's bytes
package requestbolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/sportello/sportello/internal/request"
)

var (
	bucketRecords = []byte("req_records")
	bucketKeys    = []byte("req_keys")
	bucketPerson  = []byte("req_person")
	bucketFiled   = []byte("req_filed")
	bucketFiles   = []byte("req_files")
	allBuckets    = [][]byte{bucketRecords, bucketKeys, bucketPerson, bucketFiled, bucketFiles}
)

// In is the requests' view of btx. In a read-only transaction its changes
// fail with bbolt's ErrTxNotWritable.
func In(btx *bbolt.Tx) request.Tx { return txn{btx} }

type txn struct{ tx *bbolt.Tx }

// bucket returns the bucket name, made on a write's first use; nil when a
// read finds the file without requests.
func (t txn) bucket(name []byte) (*bbolt.Bucket, error) {
	if b := t.tx.Bucket(name); b != nil || !t.tx.Writable() {
		return b, nil
	}
	for _, n := range allBuckets {
		if _, err := t.tx.CreateBucketIfNotExists(n); err != nil {
			return nil, fmt.Errorf("cannot create the requests' bucket %q: %w", n, err)
		}
	}
	return t.tx.Bucket(name), nil
}

func (t txn) value(name, key []byte) ([]byte, error) {
	b, err := t.bucket(name)
	if b == nil || err != nil {
		return nil, err
	}
	return b.Get(key), nil
}

func (t txn) put(name, key, value []byte) error {
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	b, err := t.bucket(name)
	if err != nil {
		return err
	}
	return b.Put(key, value)
}

func stamp(filed time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(filed.UnixNano()))
}

func personKey(cf string, filed time.Time, id string) []byte {
	k := append([]byte(cf), 0)
	k = append(k, stamp(filed)...)
	return append(k, id...)
}

func (t txn) Get(id string) (request.Request, error) {
	var r request.Request
	v, err := t.value(bucketRecords, []byte(id))
	if err != nil {
		return r, err
	}
	if v == nil {
		return r, fmt.Errorf("%w: %q", request.ErrNotFound, id)
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return r, fmt.Errorf("the record of request %s is damaged: %w", id, err)
	}
	return r, nil
}

func (t txn) store(r *request.Request) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return t.put(bucketRecords, []byte(r.ID), v)
}

func (t txn) Create(r *request.Request) error {
	if err := r.Check(); err != nil {
		return err
	}
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	if v, err := t.value(bucketRecords, []byte(r.ID)); err != nil || v != nil {
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: id %s", request.ErrExists, r.ID)
	}
	if r.IdempotencyKey != "" {
		v, err := t.value(bucketKeys, []byte(r.IdempotencyKey))
		if err != nil {
			return err
		}
		if v != nil {
			return fmt.Errorf("%w: the key was used by request %s", request.ErrExists, v)
		}
		if err := t.put(bucketKeys, []byte(r.IdempotencyKey), []byte(r.ID)); err != nil {
			return err
		}
	}
	for _, cf := range r.Persons {
		if err := t.put(bucketPerson, personKey(cf, r.Filed, r.ID), nil); err != nil {
			return err
		}
	}
	if err := t.put(bucketFiled, append(stamp(r.Filed), r.ID...), nil); err != nil {
		return err
	}
	r.Version = 1
	if err := t.store(r); err != nil {
		r.Version = 0
		return err
	}
	return nil
}

func (t txn) Put(r *request.Request) error {
	if err := r.Check(); err != nil {
		return err
	}
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	old, err := t.Get(r.ID)
	if err != nil {
		return err
	}
	if old.Version != r.Version {
		return fmt.Errorf("%w: request %s is at version %d, the copy saved at %d", request.ErrStale, r.ID, old.Version, r.Version)
	}
	if old.Kind != r.Kind || old.Protocol != r.Protocol || !old.Filed.Equal(r.Filed) || old.SHA256 != r.SHA256 ||
		!slices.Equal(old.Persons, r.Persons) || old.IdempotencyKey != r.IdempotencyKey {
		return fmt.Errorf("%w: request %s: its kind, protocol, filing time, hash, persons and key are fixed at filing", request.ErrInvalid, r.ID)
	}
	r.Version++
	if err := t.store(r); err != nil {
		r.Version--
		return err
	}
	return nil
}

func (t txn) ByKey(key string) (request.Request, error) {
	id, err := t.value(bucketKeys, []byte(key))
	if err != nil {
		return request.Request{}, err
	}
	if id == nil {
		return request.Request{}, fmt.Errorf("%w: no request with this key", request.ErrNotFound)
	}
	return t.Get(string(id))
}

func (t txn) OfPerson(cf string) ([]request.Request, error) {
	cf = strings.ToUpper(strings.TrimSpace(cf))
	b, err := t.bucket(bucketPerson)
	if b == nil || err != nil || cf == "" {
		return nil, err
	}
	prefix := append([]byte(cf), 0)
	var out []request.Request
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		r, err := t.Get(string(k[len(prefix)+8:]))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.Reverse(out)
	return out, nil
}

func (t txn) List(f request.Filter) ([]request.Request, error) {
	b, err := t.bucket(bucketFiled)
	if b == nil || err != nil {
		return nil, err
	}
	var out []request.Request
	err = b.ForEach(func(k, _ []byte) error {
		r, err := t.Get(string(k[8:]))
		if err != nil {
			return err
		}
		if f.Match(&r) {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func (t txn) PutAttachment(data []byte) (string, error) {
	sum := request.SumOf(data)
	if !t.tx.Writable() {
		return "", bberrors.ErrTxNotWritable
	}
	if v, err := t.value(bucketFiles, []byte(sum)); err != nil || v != nil {
		return sum, err
	}
	return sum, t.put(bucketFiles, []byte(sum), data)
}

func (t txn) Attachment(sum string) ([]byte, error) {
	v, err := t.value(bucketFiles, []byte(strings.ToLower(sum)))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("%w: no attachment %s", request.ErrNotFound, sum)
	}
	return bytes.Clone(v), nil
}
