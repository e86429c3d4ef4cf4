package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// certs is the issued certificates' view of one transaction (migration
// 0003). What must be unique (id, idempotency key, protocol number,
// contrassegno) is unique in the database, so several hubs on one database
// refuse a second use whichever hub sees it: an insert that meets another
// transaction's uncommitted row waits for it, then finds it.
type certs struct {
	ctx      context.Context
	tx       pgx.Tx
	writable bool
}

var _ certificate.Tx = (*certs)(nil)

var _ certificate.PurgedCopier = (*certs)(nil)

// AllPurged lists the purged certificates' markers by id
// (certificate.PurgedCopier).
func (c *certs) AllPurged() ([]certificate.Purged, error) {
	rows, err := c.tx.Query(c.ctx, `SELECT id, record FROM certificates_purged ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, certError(err)
	}
	var out []certificate.Purged
	var id string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		var p certificate.Purged
		if err := json.Unmarshal(data, &p); err != nil {
			return fmt.Errorf("what is kept of the purged certificate %s is damaged: %w", id, err)
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, certError(err)
	}
	return out, nil
}

// RestorePurged writes ps as they are (certificate.PurgedCopier).
func (c *certs) RestorePurged(ps []certificate.Purged) error {
	if !c.writable {
		return store.ErrReadOnly
	}
	for _, p := range ps {
		if p.ID == "" {
			return fmt.Errorf("a purged certificate's marker has no id")
		}
		var taken bool
		err := c.tx.QueryRow(c.ctx, `SELECT EXISTS (SELECT 1 FROM certificates WHERE id = $1) OR EXISTS (SELECT 1 FROM certificates_purged WHERE id = $1)`, p.ID).Scan(&taken)
		if err != nil {
			return certError(err)
		}
		if taken {
			return fmt.Errorf("%w: %s", certificate.ErrDuplicateID, p.ID)
		}
		data, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if _, err := c.tx.Exec(c.ctx, `INSERT INTO certificates_purged (id, record) VALUES ($1, $2)`, p.ID, data); err != nil {
			return certError(err)
		}
	}
	return nil
}

func certError(err error) error {
	return fmt.Errorf("the certificates' database failed: %w", err)
}

func decodeRecord(data []byte) (certificate.Record, error) {
	return certificate.DecodeRecord(data)
}

func (c *certs) records(sql string, args ...any) ([]certificate.Record, error) {
	rows, err := c.tx.Query(c.ctx, sql, args...)
	if err != nil {
		return nil, certError(err)
	}
	data, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, certError(err)
	}
	out := make([]certificate.Record, 0, len(data))
	for _, d := range data {
		r, err := decodeRecord(d)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// one returns the record the query finds, or ok false.
func (c *certs) one(sql string, args ...any) (certificate.Record, bool, error) {
	var data []byte
	err := c.tx.QueryRow(c.ctx, sql, args...).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return certificate.Record{}, false, nil
	}
	if err != nil {
		return certificate.Record{}, false, certError(err)
	}
	r, err := decodeRecord(data)
	return r, err == nil, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (c *certs) Put(r certificate.Record) error {
	if !c.writable {
		return store.ErrReadOnly
	}
	if strings.TrimSpace(r.ID) == "" {
		return errors.New("a certificate record needs an id")
	}
	if r.Issued.IsZero() {
		return fmt.Errorf("the record of certificate %s has no time of issue", r.ID)
	}
	n, err := protocol.ParseNumber(r.Protocol)
	if err != nil {
		return fmt.Errorf("the record of certificate %s has a protocol number that cannot be read: %w", r.ID, err)
	}
	data, err := certificate.EncodeRecord(&r)
	if err != nil {
		return err
	}
	// One statement in the usual case: every unique column is checked by
	// the insert itself; only a refusal asks which one.
	tag, err := c.tx.Exec(c.ctx, `INSERT INTO certificates
		(id, year, seq, day, issued, operator_id, subject_cf, requester_cf, idempotency_key, pdf_kept, record)
		SELECT $1, $2, $3, $4::date, $5, $6, $7, $8, $9, $10, $11
		WHERE NOT EXISTS (SELECT 1 FROM certificates_purged WHERE id = $1)
		ON CONFLICT DO NOTHING`,
		r.ID, n.Year, int64(n.Seq), protocol.DayOf(r.Issued).String(), r.Issued, r.OperatorID,
		strings.ToUpper(r.SubjectCF), strings.ToUpper(r.RequesterCF), nullable(r.IdempotencyKey), r.PDFDeleted.IsZero(), data)
	if err != nil {
		return certError(err)
	}
	if tag.RowsAffected() == 0 {
		return c.whyNot(r, n)
	}
	if r.Contrassegno == "" {
		return nil
	}
	tag, err = c.tx.Exec(c.ctx, `INSERT INTO certificate_contrassegni (contrassegno, certificate_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, r.Contrassegno, r.ID)
	if err != nil {
		return certError(err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Refused: the record just written goes, so Put wrote nothing.
	if _, err := c.tx.Exec(c.ctx, `DELETE FROM certificates WHERE id = $1`, r.ID); err != nil {
		return certError(err)
	}
	owner, err := c.ContrassegnoOwner(r.Contrassegno)
	if err != nil {
		return err
	}
	return certificate.ContrassegnoUsed(r.Contrassegno, owner)
}

// whyNot explains an insert of r that a unique column refused.
func (c *certs) whyNot(r certificate.Record, n protocol.Number) error {
	if r.IdempotencyKey != "" {
		first, err := c.ByIdempotencyKey(r.IdempotencyKey, r.RequestHash)
		switch {
		case err == nil:
			return &certificate.ReplayError{Record: first}
		case !errors.Is(err, certificate.ErrNotFound):
			return err
		}
	}
	var taken bool
	err := c.tx.QueryRow(c.ctx, `SELECT EXISTS (SELECT 1 FROM certificates WHERE id = $1) OR EXISTS (SELECT 1 FROM certificates_purged WHERE id = $1)`, r.ID).Scan(&taken)
	if err != nil {
		return certError(err)
	}
	if taken {
		return fmt.Errorf("%w: %s", certificate.ErrDuplicateID, r.ID)
	}
	var other string
	err = c.tx.QueryRow(c.ctx, `SELECT id FROM certificates WHERE year = $1 AND seq = $2`, n.Year, int64(n.Seq)).Scan(&other)
	if err == nil {
		return fmt.Errorf("protocol number %s is already on certificate %s", n, other)
	}
	return fmt.Errorf("the record of certificate %s was refused by the database for a reason it did not say", r.ID)
}

func (c *certs) Get(id string) (certificate.Record, error) {
	r, ok, err := c.one(`SELECT record FROM certificates WHERE id = $1`, id)
	if ok || err != nil {
		return r, err
	}
	var data []byte
	err = c.tx.QueryRow(c.ctx, `SELECT record FROM certificates_purged WHERE id = $1`, id).Scan(&data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return r, fmt.Errorf("%w: no certificate has id %q", certificate.ErrNotFound, id)
	case err != nil:
		return r, certError(err)
	}
	var p certificate.Purged
	if err := json.Unmarshal(data, &p); err != nil {
		return r, fmt.Errorf("what is kept of the purged certificate %s is damaged: %w", id, err)
	}
	return r, fmt.Errorf("%w: %w", certificate.ErrNotFound, &certificate.PurgedError{Purged: p})
}

func (c *certs) ByIdempotencyKey(key, requestHash string) (certificate.Record, error) {
	r, ok, err := c.one(`SELECT record FROM certificates WHERE idempotency_key = $1`, key)
	switch {
	case err != nil:
		return r, err
	case !ok:
		return r, fmt.Errorf("%w: no certificate was issued for idempotency key %q", certificate.ErrNotFound, key)
	case r.RequestHash != requestHash:
		return certificate.Record{}, &certificate.ConflictError{Key: key, ID: r.ID}
	}
	return r, nil
}

func (c *certs) ContrassegnoOwner(id string) (string, error) {
	if id == "" {
		return "", nil
	}
	var owner string
	err := c.tx.QueryRow(c.ctx, `SELECT certificate_id FROM certificate_contrassegni WHERE contrassegno = $1`, id).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", certError(err)
	}
	return owner, nil
}

func (c *certs) ByDay(d protocol.Day) ([]certificate.Record, error) {
	return c.records(`SELECT record FROM certificates WHERE day = $1::date ORDER BY seq, id`, d.String())
}

func (c *certs) ByOperator(op string, from, to protocol.Day) ([]certificate.Record, error) {
	if op == "" {
		return nil, errors.New("an operator id is needed to list its certificates")
	}
	return c.records(`SELECT record FROM certificates WHERE operator_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day, seq, id`,
		op, from.String(), to.String())
}

func (c *certs) ByCF(cf string, limit int) ([]certificate.Record, error) {
	cf = strings.ToUpper(strings.TrimSpace(cf))
	if cf == "" {
		return nil, errors.New("a codice fiscale is needed to list its certificates")
	}
	return c.records(`SELECT record FROM certificates WHERE subject_cf = $1 OR requester_cf = $1
		ORDER BY day DESC, seq DESC, id DESC LIMIT NULLIF($2, 0)`, cf, limit)
}

func (c *certs) ByProtocol(n protocol.Number) (certificate.Record, error) {
	r, ok, err := c.one(`SELECT record FROM certificates WHERE year = $1 AND seq = $2`, n.Year, int64(n.Seq))
	if err != nil {
		return r, err
	}
	// The codes compare without case, as certbolt's: IPA's codes identify
	// an administration whatever their case.
	if !ok || !n.Register.IsZero() && !strings.EqualFold(r.Protocol, n.String()) {
		return certificate.Record{}, fmt.Errorf("%w: no certificate has protocol number %s", certificate.ErrNotFound, n)
	}
	return r, nil
}

// forUpdate reads record id and locks its row until the transaction ends,
// so two hubs changing one record change it one after the other.
func (c *certs) forUpdate(id string) (certificate.Record, error) {
	r, ok, err := c.one(`SELECT record FROM certificates WHERE id = $1 FOR UPDATE`, id)
	if err != nil || ok {
		return r, err
	}
	return c.Get(id) // not found, or purged: Get says which
}

func (c *certs) Revoke(id, reason, authorisedBy string, at time.Time) (certificate.Record, error) {
	if !c.writable {
		return certificate.Record{}, store.ErrReadOnly
	}
	if err := certificate.CheckRevocation(reason, authorisedBy); err != nil {
		return certificate.Record{}, err
	}
	r, err := c.forUpdate(id)
	if err != nil {
		return r, err
	}
	if r.Status == certificate.Revoked {
		return r, fmt.Errorf("%w: certificate %s was revoked on %s", certificate.ErrAlreadyRevoked, id, r.RevokedAt.In(protocol.Rome).Format("02/01/2006 15:04"))
	}
	r.Status, r.RevokedAt = certificate.Revoked, at
	r.RevokeReason, r.RevokedBy = strings.TrimSpace(reason), strings.TrimSpace(authorisedBy)
	return r, c.rewrite(&r)
}

// rewrite stores a changed record in place; its columns do not change.
func (c *certs) rewrite(r *certificate.Record) error {
	data, err := certificate.EncodeRecord(r)
	if err != nil {
		return err
	}
	if _, err := c.tx.Exec(c.ctx, `UPDATE certificates SET record = $2, pdf_kept = $3 WHERE id = $1`, r.ID, data, r.PDFDeleted.IsZero()); err != nil {
		return certError(err)
	}
	return nil
}

func (c *certs) ExpiredPDFs(cutoff time.Time, limit int) ([]certificate.Record, error) {
	return c.records(`SELECT record FROM certificates WHERE pdf_kept AND day <= $1::date AND issued < $2
		ORDER BY day, seq, id LIMIT NULLIF($3, 0)`, protocol.DayOf(cutoff).String(), cutoff, limit)
}

func (c *certs) PDFDeleted(id string, at time.Time) error {
	if !c.writable {
		return store.ErrReadOnly
	}
	r, err := c.forUpdate(id)
	if err != nil || !r.PDFDeleted.IsZero() {
		return err
	}
	r.PDFDeleted = at.UTC()
	return c.rewrite(&r)
}

func (c *certs) ExpiredRecords(cutoff time.Time) (int, error) {
	var n int
	err := c.tx.QueryRow(c.ctx, `SELECT count(*) FROM certificates WHERE day <= $1::date AND issued < $2`, protocol.DayOf(cutoff).String(), cutoff).Scan(&n)
	if err != nil {
		return 0, certError(err)
	}
	return n, nil
}

func (c *certs) PurgeRecords(cutoff, at time.Time, limit int) ([]certificate.Record, error) {
	if !c.writable {
		return nil, store.ErrReadOnly
	}
	// FOR UPDATE: a second hub purging at once waits, then skips the rows
	// this one deleted.
	rs, err := c.records(`SELECT record FROM certificates WHERE day <= $1::date AND issued < $2
		ORDER BY day, seq, id LIMIT NULLIF($3, 0) FOR UPDATE`, protocol.DayOf(cutoff).String(), cutoff, limit)
	if err != nil || len(rs) == 0 {
		return rs, err
	}
	ids := make([]string, len(rs))
	kept := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
		p := certificate.Purged{ID: r.ID, Issued: registry.DateOf(r.Issued.In(protocol.Rome)), At: at.UTC()}
		v, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		kept[i] = string(v)
	}
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO certificates_purged (id, record) SELECT * FROM unnest($1::text[], $2::jsonb[]) ON CONFLICT (id) DO NOTHING`, ids, kept)
	batch.Queue(`DELETE FROM certificates WHERE id = ANY($1)`, ids)
	if err := c.tx.SendBatch(c.ctx, batch).Close(); err != nil {
		return nil, certError(err)
	}
	return rs, nil
}

func (c *certs) OldestIssued(since time.Time) (time.Time, bool, error) {
	r, ok, err := c.one(`SELECT record FROM certificates WHERE day >= $1::date AND issued >= $2 ORDER BY day, seq, id LIMIT 1`,
		protocol.DayOf(since).String(), since)
	return r.Issued, ok, err
}
