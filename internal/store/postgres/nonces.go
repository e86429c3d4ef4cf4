package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/httpsig"
)

// nonces is the used nonces in the database (migration 0007): each Use is
// one statement, committed before it answers, so a nonce accepted by one
// hub is a replay to every other at once.
type nonces struct {
	db *DB

	mu     sync.Mutex
	purged time.Time // the verifier's clock at the last purge
}

var _ httpsig.NonceStore = (*nonces)(nil)

// purgeEvery and purgeBatch bound the clean-up: each hub deletes expired
// nonces about once a second, a bounded number at a time, so the table
// holds about one validity window of them and no request waits long.
const (
	purgeEvery = time.Second
	purgeBatch = 4096
)

// Use implements httpsig.NonceStore. The insert either adds the nonce,
// replaces an expired record of it, or, when a live record is there (or
// another hub's insert of it commits first), changes nothing and returns no
// row: a replay.
func (n *nonces) Use(ctx context.Context, keyID, nonce string, now, until time.Time) (bool, error) {
	var fresh bool
	err := n.db.pool.QueryRow(ctx, `INSERT INTO signature_nonces (key_id, nonce, until) VALUES ($1, $2, $3)
		ON CONFLICT (key_id, nonce) DO UPDATE SET until = excluded.until WHERE signature_nonces.until <= $4
		RETURNING true`, keyID, nonce, until, now).Scan(&fresh)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot record the nonce: %w: %w", ErrUnavailable, err)
	}
	n.purge(ctx, now)
	return true, nil
}

// purge deletes expired nonces when the last purge is purgeEvery old. A
// failed purge is not the request's failure: the next one tries again.
func (n *nonces) purge(ctx context.Context, now time.Time) {
	n.mu.Lock()
	if now.Sub(n.purged) < purgeEvery {
		n.mu.Unlock()
		return
	}
	n.purged = now
	n.mu.Unlock()
	_, _ = n.db.pool.Exec(ctx, `DELETE FROM signature_nonces WHERE ctid IN (
		SELECT ctid FROM signature_nonces WHERE until <= $1 LIMIT $2)`, now, purgeBatch)
}

// Stored is the number of nonce records in the database, expired ones not
// yet purged included.
func (n *nonces) Stored(ctx context.Context) (int, error) {
	var c int
	err := n.db.pool.QueryRow(ctx, "SELECT count(*) FROM signature_nonces").Scan(&c)
	return c, err
}
