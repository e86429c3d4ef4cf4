// Package opbolt keeps operators, their devices and enrolment codes in the
// hub's bbolt file, beside the registry: In is the operators' view
// (operators.Tx) of one bbolt transaction.
//
// Layout (keys are byte strings; values JSON):
//
//	op_operators  operator id → operators.Operator
//	op_devices    key id → operators.Device
//	op_opdevices  operator id ‖ 0x00 ‖ key id → ∅
//	op_codes      code hash → operators.EnrolmentCode
//	op_backlog    key id → operators.Backlog, the device's last report of its offline queue
//	op_clerks, op_clerksessions  clerks.go
//
// Operator ids are "op-" and the bucket's sequence, so they roll back with
// a failed transaction and are never reused.
package opbolt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/sportello/sportello/internal/operators"
)

var (
	bucketOperators = []byte("op_operators")
	bucketDevices   = []byte("op_devices")
	bucketOpDevices = []byte("op_opdevices")
	bucketCodes     = []byte("op_codes")
	bucketBacklog   = []byte("op_backlog")
	allBuckets      = [][]byte{bucketOperators, bucketDevices, bucketOpDevices, bucketCodes, bucketBacklog, bucketClerks, bucketClerkSessions}
)

// ErrNotInitialised is a file whose operators' buckets were never made.
var ErrNotInitialised = errors.New("operator store not initialised")

// Init creates the buckets. Call it once in a write transaction when the
// hub opens its file.
func Init(tx *bbolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("cannot create the operators' bucket %q: %w", name, err)
		}
	}
	return nil
}

// In is the operators' view of bbolt transaction btx. A read-only btx
// refuses every change (bbolt's ErrTxNotWritable).
func In(btx *bbolt.Tx) operators.Tx { return view{btx} }

// Operators returns every operator in tx, in id order.
func Operators(tx *bbolt.Tx) ([]*operators.Operator, error) { return view{tx}.Operators() }

type view struct{ tx *bbolt.Tx }

var _ operators.Tx = view{}

func (v view) bucket(name []byte) (*bbolt.Bucket, error) {
	b := v.tx.Bucket(name)
	if b == nil {
		if !v.tx.Writable() {
			return nil, fmt.Errorf("the operators' bucket %q is missing: %w", name, bberrors.ErrTxNotWritable)
		}
		// A file made before this bucket existed gets it on its first
		// write.
		var err error
		if b, err = v.tx.CreateBucketIfNotExists(name); err != nil {
			return nil, fmt.Errorf("cannot create the operators' bucket %q: %w", name, err)
		}
	}
	return b, nil
}

// nextID draws the next id of bucket name: prefix, a dash and at least
// four digits ("op-0001").
func (v view) nextID(name []byte, prefix string) (string, error) {
	b, err := v.bucket(name)
	if err != nil {
		return "", err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%04d", prefix, seq), nil
}

func get[T any](v view, name []byte, key string, what string) (*T, error) {
	b := v.tx.Bucket(name)
	var data []byte
	if b != nil {
		data = b.Get([]byte(key))
	}
	if data == nil {
		return nil, fmt.Errorf("%w: no %s %q", operators.ErrNotFound, what, key)
	}
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("the stored %s %q is damaged: %w", what, key, err)
	}
	return out, nil
}

func put(v view, name []byte, key string, value any) error {
	b, err := v.bucket(name)
	if err != nil {
		return err
	}
	data, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

// each decodes every value of bucket name, in key order.
func each[T any](v view, name []byte, what string, fn func(*T) error) error {
	b := v.tx.Bucket(name)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, data []byte) error {
		out := new(T)
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("the stored %s %q is damaged: %w", what, k, err)
		}
		return fn(out)
	})
}

func (v view) AddOperator(o *operators.Operator) error {
	if err := each(v, bucketOperators, "operator", func(other *operators.Operator) error {
		if operators.SameShop(other, o) {
			return fmt.Errorf("%w: operator %s already has partita IVA %s at %s", operators.ErrInvalid, other.ID, o.PartitaIVA, o.Address)
		}
		return nil
	}); err != nil {
		return err
	}
	id, err := v.nextID(bucketOperators, "op")
	if err != nil {
		return err
	}
	o.ID = id
	return put(v, bucketOperators, o.ID, o)
}

func (v view) PutOperator(o *operators.Operator) error {
	if _, err := v.Operator(o.ID); err != nil {
		return err
	}
	return put(v, bucketOperators, o.ID, o)
}

func (v view) Operator(id string) (*operators.Operator, error) {
	return get[operators.Operator](v, bucketOperators, id, "operator")
}

func (v view) Operators() (out []*operators.Operator, err error) {
	err = each(v, bucketOperators, "operator", func(o *operators.Operator) error { out = append(out, o); return nil })
	return out, err
}

func (v view) PutCode(c operators.EnrolmentCode) error {
	return put(v, bucketCodes, c.Hash, c)
}

func (v view) Code(hash string) (*operators.EnrolmentCode, error) {
	return get[operators.EnrolmentCode](v, bucketCodes, hash, "code")
}

func (v view) Codes(operatorID string) (out []operators.EnrolmentCode, err error) {
	err = each(v, bucketCodes, "code", func(c *operators.EnrolmentCode) error {
		if c.OperatorID == operatorID {
			out = append(out, *c)
		}
		return nil
	})
	operators.SortCodes(out)
	return out, err
}

func (v view) AddDevice(d *operators.Device) error {
	devs, err := v.bucket(bucketDevices)
	if err != nil {
		return err
	}
	if devs.Get([]byte(d.KeyID)) != nil {
		return fmt.Errorf("%w: %s", operators.ErrKeyInUse, d.KeyID)
	}
	if err := put(v, bucketDevices, d.KeyID, d); err != nil {
		return err
	}
	idx, err := v.bucket(bucketOpDevices)
	if err != nil {
		return err
	}
	return idx.Put(opDeviceKey(d.OperatorID, d.KeyID), nil)
}

func (v view) PutDevice(d *operators.Device) error {
	if _, err := v.Device(d.KeyID); err != nil {
		return err
	}
	return put(v, bucketDevices, d.KeyID, d)
}

func opDeviceKey(opID, keyID string) []byte {
	return append(append([]byte(opID), 0), keyID...)
}

func (v view) Device(keyID string) (*operators.Device, error) {
	return get[operators.Device](v, bucketDevices, keyID, "device")
}

func (v view) Devices(id string) ([]*operators.Device, error) {
	b := v.tx.Bucket(bucketOpDevices)
	if b == nil {
		return nil, nil
	}
	prefix := append([]byte(id), 0)
	var out []*operators.Device
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		d, err := v.Device(string(k[len(prefix):]))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (v view) PutBacklog(b operators.Backlog) error {
	return put(v, bucketBacklog, b.KeyID, b)
}

func (v view) Backlog(keyID string) (*operators.Backlog, error) {
	b, err := get[operators.Backlog](v, bucketBacklog, keyID, "backlog")
	if errors.Is(err, operators.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

// restore stores value under id in bucket name as another store kept it
// (operators.Restorer), moving the bucket's sequence past id's number.
func (v view) restore(name []byte, prefix, id string, value any) error {
	n, err := operators.IDNumber(id, prefix)
	if err != nil {
		return err
	}
	b, err := v.bucket(name)
	if err != nil {
		return err
	}
	if b.Get([]byte(id)) != nil {
		return fmt.Errorf("%w: %s is stored already", operators.ErrInvalid, id)
	}
	if uint64(n) > b.Sequence() {
		if err := b.SetSequence(uint64(n)); err != nil {
			return err
		}
	}
	return put(v, name, id, value)
}

func (v view) RestoreOperator(o *operators.Operator) error {
	return v.restore(bucketOperators, "op", o.ID, o)
}

func (v view) RestoreClerk(c *operators.Clerk) error {
	return v.restore(bucketClerks, "cl", c.ID, c)
}
