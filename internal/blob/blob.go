// Package blob keeps documents by their content, outside the database:
// each certificate's PDF is kept under its SHA-256 while it may be
// downloaded again, and only the record and the hash stay in the hub's
// store afterwards (issue 16: 1.5 million certificates a year would
// otherwise put ~100 GB a year into one database file).
//
// Content addressing makes a write idempotent and a crash harmless: a
// document written before a transaction that then failed is an orphan
// nobody refers to, which the retention sweep deletes; nothing refers to a
// document that is not there.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Sum is a document's SHA-256, its address.
type Sum [32]byte

// Of returns the address of data.
func Of(data []byte) Sum { return sha256.Sum256(data) }

// String is the sum in lowercase hexadecimal, the form records keep
// (certificate.Record.DocSHA256).
func (s Sum) String() string { return hex.EncodeToString(s[:]) }

// ParseSum reads a sum in hexadecimal.
func ParseSum(h string) (Sum, error) {
	var s Sum
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != len(s) {
		return s, fmt.Errorf("%q is not a SHA-256 in hexadecimal: %w", h, ErrInvalid)
	}
	copy(s[:], b)
	return s, nil
}

// Errors of blob stores; returned errors wrap them.
var (
	ErrNotFound = errors.New("document not found")
	ErrInvalid  = errors.New("invalid document address")
	// ErrCorrupt: the bytes kept under a sum no longer hash to it.
	ErrCorrupt = errors.New("document damaged")
)

// Store keeps documents by content. Implementations are safe for
// concurrent use by several processes (hubs) sharing the same place.
type Store interface {
	// Put keeps data durably (synced before it returns) and returns its
	// sum; putting the same data again is a no-op.
	Put(ctx context.Context, data []byte) (Sum, error)
	// Get returns the document with sum s, checked against it
	// (ErrNotFound, ErrCorrupt).
	Get(ctx context.Context, s Sum) ([]byte, error)
	// Delete removes the document with sum s; a missing one is not an
	// error.
	Delete(ctx context.Context, s Sum) error
	// Walk calls fn with every sum kept, in no particular order, until fn
	// returns false or an error (the retention sweep's orphan check).
	Walk(ctx context.Context, fn func(Sum) (bool, error)) error
}

// Ager is a Store that knows when each document was last written: the
// retention sweep deletes only documents older than any issuance still
// under way, so one written for a transaction not yet committed stays.
type Ager interface {
	// Written is when the document with sum s was last put (a Put of
	// data already kept counts as a write); ErrNotFound if it is not
	// kept.
	Written(ctx context.Context, s Sum) (time.Time, error)
}
