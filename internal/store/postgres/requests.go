package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
)

// requests is request.Tx on one database transaction (tables requests,
// request_persons and request_attachments, migration 0012).
type requests struct{ t *tx }

// Requests returns the requests' view of t.
func (t *tx) Requests() request.Tx { return requests{t} }

func decodeRequest(id string, data []byte) (request.Request, error) {
	var r request.Request
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("the record of request %s is damaged: %w", id, err)
	}
	return r, nil
}

// one reads the request the query selects; in a write transaction the row
// stays locked until the end, so a decision is not lost to another hub's.
func (v requests) one(notFound error, sql string, args ...any) (request.Request, error) {
	if v.t.writable {
		sql += " FOR UPDATE"
	}
	var id string
	var data []byte
	err := v.t.ptx.QueryRow(v.t.ctx, sql, args...).Scan(&id, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return request.Request{}, notFound
	}
	if err != nil {
		return request.Request{}, fmt.Errorf("cannot read a request: %w", err)
	}
	return decodeRequest(id, data)
}

func (v requests) many(what, sql string, args ...any) ([]request.Request, error) {
	rows, err := v.t.ptx.Query(v.t.ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", what, err)
	}
	var out []request.Request
	var id string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		r, err := decodeRequest(id, data)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", what, err)
	}
	return out, nil
}

func (v requests) Get(id string) (request.Request, error) {
	return v.one(fmt.Errorf("%w: %q", request.ErrNotFound, id), "SELECT id, record FROM requests WHERE id = $1", id)
}

func (v requests) ByKey(key string) (request.Request, error) {
	return v.one(fmt.Errorf("%w: no request with this key", request.ErrNotFound), "SELECT id, record FROM requests WHERE idempotency_key = $1", key)
}

func (v requests) OfPerson(cf string) ([]request.Request, error) {
	cf = strings.ToUpper(strings.TrimSpace(cf))
	return v.many("the requests of "+cf, `SELECT r.id, r.record FROM request_persons p JOIN requests r ON r.id = p.request_id
		WHERE p.cf = $1 ORDER BY p.filed_ns DESC, p.request_id COLLATE "C" DESC`, cf)
}

func (v requests) List(f request.Filter) ([]request.Request, error) {
	statuses := make([]string, len(f.Statuses))
	for i, s := range f.Statuses {
		statuses[i] = string(s)
	}
	return v.many("the requests' queue", `SELECT id, record FROM requests
		WHERE ($1 = '' OR kind = $1) AND (cardinality($2::text[]) = 0 OR status = ANY($2))
		ORDER BY filed_ns, id COLLATE "C"`, string(f.Kind), statuses)
}

func (v requests) Create(r *request.Request) error {
	if err := r.Check(); err != nil {
		return err
	}
	if !v.t.writable {
		return store.ErrReadOnly
	}
	if r.IdempotencyKey != "" {
		if prev, err := v.ByKey(r.IdempotencyKey); err == nil {
			return fmt.Errorf("%w: the key was used by request %s", request.ErrExists, prev.ID)
		} else if !errors.Is(err, request.ErrNotFound) {
			return err
		}
	}
	r.Version = 1
	data, err := json.Marshal(r)
	if err != nil {
		r.Version = 0
		return err
	}
	// The unique index on the key refuses a second hub's filing of the
	// same request that got past the check above at the same moment.
	_, err = v.t.ptx.Exec(v.t.ctx, `INSERT INTO requests (id, kind, status, filed_ns, idempotency_key, version, record)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.ID, string(r.Kind), string(r.Status), r.Filed.UnixNano(), nullable(r.IdempotencyKey), r.Version, data)
	if isUniqueViolation(err) {
		r.Version = 0
		return fmt.Errorf("%w: id %s or its idempotency key", request.ErrExists, r.ID)
	}
	if err != nil {
		r.Version = 0
		return fmt.Errorf("cannot store request %s: %w", r.ID, err)
	}
	for _, cf := range r.Persons {
		if _, err := v.t.ptx.Exec(v.t.ctx, `INSERT INTO request_persons (cf, request_id, filed_ns) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, cf, r.ID, r.Filed.UnixNano()); err != nil {
			r.Version = 0
			return fmt.Errorf("cannot index request %s: %w", r.ID, err)
		}
	}
	return nil
}

func (v requests) Put(r *request.Request) error {
	if err := r.Check(); err != nil {
		return err
	}
	if !v.t.writable {
		return store.ErrReadOnly
	}
	old, err := v.Get(r.ID) // locks the row
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
	data, err := json.Marshal(r)
	if err == nil {
		_, err = v.t.ptx.Exec(v.t.ctx, `UPDATE requests SET status = $2, version = $3, record = $4 WHERE id = $1`,
			r.ID, string(r.Status), r.Version, data)
	}
	if err != nil {
		r.Version--
		return fmt.Errorf("cannot store request %s: %w", r.ID, err)
	}
	return nil
}

func (v requests) PutAttachment(data []byte) (string, error) {
	sum := request.SumOf(data)
	if !v.t.writable {
		return "", store.ErrReadOnly
	}
	if _, err := v.t.ptx.Exec(v.t.ctx, `INSERT INTO request_attachments (sha256, data) VALUES ($1, $2) ON CONFLICT DO NOTHING`, sum, data); err != nil {
		return "", fmt.Errorf("cannot keep attachment %s: %w", sum, err)
	}
	return sum, nil
}

func (v requests) Attachment(sum string) ([]byte, error) {
	var data []byte
	err := v.t.ptx.QueryRow(v.t.ctx, `SELECT data FROM request_attachments WHERE sha256 = $1`, strings.ToLower(sum)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: no attachment %s", request.ErrNotFound, sum)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read attachment %s: %w", sum, err)
	}
	return data, nil
}
