package certbolt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store/bolt/auditbolt"
	"github.com/sportello/sportello/internal/store/bolt/protobolt"
)

// Options tune New; the zero value is right for a hub.
type Options struct {
	// Now dates the annulments of protocol numbers whose issuance failed,
	// and those of the recovery scan New runs, and the closing of days;
	// nil is time.Now.
	Now func() time.Time
	// Author signs those annulments; empty is protobolt.DefaultAuthor.
	Author string
}

// recordRecovery appends to the audit log, in the transaction that
// writes them, one entry per annulment the numbering made, so that numbers
// annulled when nobody is at a console still show in the log staff and
// the DPO read.
func recordRecovery(tx *bbolt.Tx, annulled []protocol.Entry) error {
	if err := auditbolt.Init(tx); err != nil {
		return err
	}
	for _, e := range annulled {
		if _, err := auditbolt.Append(tx, audit.Annulment(e)); err != nil {
			return err
		}
	}
	return nil
}

// Store issues and keeps certificates in the hub's bbolt file. The hub
// opens one file for everything; pass its handle. Stores made on the same
// handle share its protocol numbering (protobolt.AllocatorFor).
type Store struct {
	db      *bbolt.DB
	numbers *protobolt.Allocator
	keys    keyLocks
	marks   keyLocks // contrassegni being issued
	group   group
}

// New initialises the buckets in db and returns the store. The first store
// on a handle runs the protocol register's recovery scan: numbers left
// without an entry by a crash during issuances are annulled, each with an
// entry in the audit log committed together with it.
func New(db *bbolt.DB, opts ...Options) (*Store, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if err := db.Update(Init); err != nil {
		return nil, err
	}
	numbers, err := protobolt.AllocatorFor(db, protobolt.AllocatorOptions{Now: o.Now, Author: o.Author, Annulled: recordRecovery})
	if err != nil {
		return nil, err
	}
	return &Store{db: db, numbers: numbers}, nil
}

// Recovered returns the annulments the recovery scan registered when the
// file's numbering started in this process, for the hub's log.
func (s *Store) Recovered() []protocol.Entry { return s.numbers.Recovered() }

// Issue issues one certificate. If idem.Key was seen before with the same
// request hash it returns the stored record and replayed = true without
// calling build; with another hash it returns a *ConflictError; concurrent
// requests with one key are served one after the other, so only the first
// issues. Otherwise it reserves the next protocol number and its
// registration time for a clock reading at (at, or the register's latest
// time when the clock is a little behind it: protocol.Stamp), calls build
// with both outside any transaction, and commits the protocol entry, the
// record, the PDF, the indexes and the key together, durably, before
// returning. The certificate must say it was issued at the registration
// time: the record's Issued is set to it.
//
// Refuse before calling Issue: build runs once a number is reserved. If
// build fails, or the commit does, the number is given back unless a later
// number is registered meanwhile, and then annulled in the register
// (protocol.Annulment) with the failure as its reason; so a full disk,
// which fails every issuance in flight together, burns no number, and the
// register has no hole either way.
func (s *Store) Issue(ctx context.Context, at time.Time, idem Idempotency, build func(protocol.Number, time.Time) (*Built, error)) (certificate.Record, bool, error) {
	return s.IssueIn(ctx, protocol.Register{}, at, idem, "", build)
}

// IssueWithContrassegno is Issue for a certificate whose bollo is paid by
// the contrassegno telematico contrassegno (empty: none), which the built
// record must carry. Like an idempotency key, a contrassegno is used once:
// one already on a certificate is refused (certificate.ContrassegnoUsed)
// before a number is reserved, and the store records it with the
// certificate in the same transaction (bucketContrassegni).
func (s *Store) IssueWithContrassegno(ctx context.Context, at time.Time, idem Idempotency, contrassegno string, build func(protocol.Number, time.Time) (*Built, error)) (certificate.Record, bool, error) {
	return s.IssueIn(ctx, protocol.Register{}, at, idem, contrassegno, build)
}

// IssueIn is IssueWithContrassegno in the register whose codes are reg
// (the city's settings at this issuance): the number build receives, the
// one the certificate prints and the record and the register keep,
// carries them, "c_f205.A1B2C3.CERT.2026/0000123". The progressive is the
// register's one sequence of the year whatever the codes (see
// protocol.Number), so a change of codes takes effect from the next number
// and the numbers given keep theirs. Codes that are partly set or
// malformed are refused before a number is reserved.
func (s *Store) IssueIn(ctx context.Context, reg protocol.Register, at time.Time, idem Idempotency, contrassegno string, build func(protocol.Number, time.Time) (*Built, error)) (certificate.Record, bool, error) {
	if err := ctx.Err(); err != nil {
		return certificate.Record{}, false, err
	}
	if err := reg.Check(); err != nil {
		return certificate.Record{}, false, fmt.Errorf("the certificates cannot be registered: %w", err)
	}
	if idem.Key != "" {
		unlock, err := s.keys.lock(ctx, idem.Key)
		if err != nil {
			return certificate.Record{}, false, err
		}
		defer unlock()
		if rec, found, err := s.replay(idem); found || err != nil {
			return rec, err == nil, err
		}
	}
	unmark, err := s.claimContrassegno(ctx, contrassegno)
	if err != nil {
		return certificate.Record{}, false, err
	}
	defer unmark()
	// From here on the number must end registered, given back or annulled,
	// whatever happens to ctx: a reserved number is not left behind.
	n, stamped, err := s.numbers.Reserve(at)
	if err != nil {
		return certificate.Record{}, false, err
	}
	n.Register = reg
	settled := false
	defer func() {
		// A panicking renderer still must not leave its number behind; the
		// panic goes on to the caller (net/http recovers it per request).
		if r := recover(); r != nil {
			if !settled {
				_ = s.abandon(n, nil, ReasonFailed(fmt.Errorf("%v", r)))
			}
			panic(r)
		}
	}()
	p, err := prepare(n, stamped, idem, build)
	if err == nil && p.rec.Contrassegno != contrassegno {
		err = fmt.Errorf("the certificate carries contrassegno %q but %q was claimed", p.rec.Contrassegno, contrassegno)
	}
	settled = err != nil // abandoned just below
	if err != nil {
		return certificate.Record{}, false, s.abandon(n, err, ReasonFailed(err))
	}
	if err := s.group.commit(s.db, p); err != nil {
		var dup *keyTaken
		if r, ok := certificate.AsRefusal(err); ok && r.Reason == certificate.ReasonContrassegnoUsed {
			// Another process used the marca meanwhile: this issuance
			// wrote nothing and its number goes back.
			return certificate.Record{}, false, s.abandon(n, err, ReasonFailed(err))
		}
		switch {
		case errors.Is(err, protobolt.ErrImmutable):
			// The file already holds this number: a commit reported as
			// failed that reached the file after all (an fsync error after
			// the write). The number is used; giving it back would fail
			// every issuance after this one on it.
			s.numbers.Registered(n)
			return certificate.Record{}, false, err
		case !errors.As(err, &dup):
			return certificate.Record{}, false, s.abandon(n, err, ReasonFailed(err))
		}
		// Only another process or a bug gets here (keys are locked above);
		// still, the first issuance wins and this one is annulled.
		if err := s.abandon(n, nil, "richiesta duplicata: la chiave di idempotenza era già stata usata per il certificato "+dup.id); err != nil {
			return certificate.Record{}, false, err
		}
		rec, _, err := s.replay(idem)
		return rec, err == nil, err
	}
	s.numbers.Registered(n)
	s.numbers.Settle() // annuls numbers that failed below this one, if any
	return p.rec, false, nil
}

// ReasonFailed is the reason of the annulment of a number whose issuance
// failed with err.
func ReasonFailed(err error) string {
	msg := err.Error()
	if utf8.RuneCountInString(msg) > 200 {
		msg = string([]rune(msg)[:200]) + "…"
	}
	return protobolt.ReasonFailed + " (" + msg + ")"
}

func (s *Store) abandon(n protocol.Number, cause error, reason string) error {
	if _, err := s.numbers.Abandon(n, reason, ""); err != nil {
		if cause == nil {
			return err
		}
		return fmt.Errorf("%w; %w", cause, err)
	}
	return cause
}

// replay looks idem's key up: found with the first record, or a conflict.
func (s *Store) replay(idem Idempotency) (rec certificate.Record, found bool, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketIdem).Get([]byte(idem.Key))
		if v == nil {
			return nil
		}
		found = true
		var iv idemValue
		if err := json.Unmarshal(v, &iv); err != nil {
			return fmt.Errorf("the idempotency record of key %q is damaged: %w", idem.Key, err)
		}
		if iv.Hash != idem.RequestHash {
			return &ConflictError{Key: idem.Key, ID: iv.ID}
		}
		rec, err = Get(tx, iv.ID)
		return err
	})
	return rec, found, err
}

// pending is one issuance ready to commit.
type pending struct {
	entry protocol.Entry
	rec   certificate.Record
	pdf   []byte
	idem  Idempotency
	also  func(tx *bbolt.Tx) error

	err  error
	wake chan bool // true: lead the next commit; false: err is the result
}

// prepare calls build and checks what it made against the number.
func prepare(n protocol.Number, at time.Time, idem Idempotency, build func(protocol.Number, time.Time) (*Built, error)) (*pending, error) {
	b, err := build(n, at)
	switch {
	case err != nil:
		return nil, err
	case b == nil || b.Record.ID == "":
		return nil, errors.New("the issued certificate has no id")
	case b.Record.Protocol != n.String():
		return nil, fmt.Errorf("the certificate carries protocol number %q but was assigned %s", b.Record.Protocol, n)
	case len(b.PDF) == 0:
		return nil, errors.New("the issued certificate has no document")
	}
	sum := sha256.Sum256(b.PDF)
	docType := b.DocType
	if docType == "" {
		docType = "certificato anagrafico"
	}
	p := &pending{
		entry: protocol.Entry{
			Number:        n,
			Time:          at,
			Direction:     protocol.Outgoing,
			Correspondent: correspondent(&b.Record),
			Subject:       fmt.Sprintf("%s, %s (%s)", b.Record.Title, b.Record.SubjectName, b.Record.SubjectCF),
			DocType:       docType,
			DocSHA256:     sum,
			Ref:           b.Record.ID,
		},
		rec:  b.Record,
		pdf:  b.PDF,
		idem: idem,
		also: b.Also,
	}
	if err := p.entry.Validate(); err != nil {
		return nil, err
	}
	r := &p.rec
	r.Issued = at
	r.DocSHA256 = hex.EncodeToString(sum[:])
	r.Status = certificate.Valid
	r.RevokedAt, r.RevokeReason, r.RevokedBy = time.Time{}, "", ""
	r.IdempotencyKey, r.RequestHash = idem.Key, idem.RequestHash
	return p, nil
}

// keyTaken is a commit finding its idempotency key already stored.
type keyTaken struct{ id string }

func (e *keyTaken) Error() string {
	return "the idempotency key was stored meanwhile for certificate " + e.id
}

// check refuses, before anything is written, what would break the store:
// an idempotency key or a certificate id already used.
func (p *pending) check(tx *bbolt.Tx) error {
	if p.idem.Key != "" {
		if v := tx.Bucket(bucketIdem).Get([]byte(p.idem.Key)); v != nil {
			var iv idemValue
			_ = json.Unmarshal(v, &iv)
			return &keyTaken{id: iv.ID}
		}
	}
	if tx.Bucket(bucketCerts).Get([]byte(p.rec.ID)) != nil {
		return fmt.Errorf("%w: %s", ErrDuplicateID, p.rec.ID)
	}
	if owner := contrassegnoOwner(tx, p.rec.Contrassegno); owner != "" {
		return certificate.ContrassegnoUsed(p.rec.Contrassegno, owner)
	}
	return nil
}

func (p *pending) write(tx *bbolt.Tx) error {
	if err := protobolt.Write(tx, p.entry); err != nil {
		return err
	}
	rec := &p.rec
	if err := writeRecord(tx, rec, protocol.DayOf(p.entry.Time), p.entry.Number); err != nil {
		return err
	}
	if err := tx.Bucket(bucketPDF).Put([]byte(rec.ID), p.pdf); err != nil {
		return err
	}
	if p.also != nil {
		return p.also(tx)
	}
	return nil
}

// group is a group commit: the first issuance ready commits alone at once;
// those that become ready while it is committing queue, and the first of
// them commits the whole queue in one transaction when it is done. So an
// idle hub adds no delay (unlike bbolt's Batch, which waits MaxBatchDelay)
// and a busy one pays one fsync for many certificates.
type group struct {
	mu    sync.Mutex
	queue []*pending
	busy  bool
}

var errSolo = errors.New("a write failed in a group commit")

func (g *group) commit(db *bbolt.DB, p *pending) error {
	p.wake = make(chan bool, 1)
	g.mu.Lock()
	g.queue = append(g.queue, p)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !lead && !<-p.wake {
		return p.err
	}
	g.mu.Lock()
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()

	commitAll(db, batch)

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].wake <- true
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	for _, q := range batch {
		if q != p {
			q.wake <- false
		}
	}
	return p.err
}

// commitAll writes batch in one transaction. An issuance its check refuses
// writes nothing and the others go on; a failed write, which may have left
// part of its issuance in the transaction, rolls everything back and each
// issuance is retried alone, so one failure cannot sink the others.
func commitAll(db *bbolt.DB, batch []*pending) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, p := range batch {
			if p.err = p.check(tx); p.err != nil {
				continue
			}
			if p.err = p.write(tx); p.err != nil {
				return errSolo
			}
		}
		return nil
	})
	if errors.Is(err, errSolo) && len(batch) > 1 {
		for _, p := range batch {
			p.err = nil
			commitAll(db, []*pending{p})
		}
		return
	}
	if err != nil {
		for _, p := range batch {
			if p.err == nil {
				p.err = err
			}
		}
	}
}

// keyLocks serialises the issuances of one idempotency key, so concurrent
// duplicates wait for the first and then find its certificate.
type keyLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

func (k *keyLocks) lock(ctx context.Context, key string) (func(), error) {
	for {
		k.mu.Lock()
		busy, ok := k.held[key]
		if !ok {
			if k.held == nil {
				k.held = map[string]chan struct{}{}
			}
			done := make(chan struct{})
			k.held[key] = done
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.held, key)
				k.mu.Unlock()
				close(done)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
