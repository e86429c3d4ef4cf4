package issuance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// The commit path of an issuance, on any backend of the hub's store:
//
//  1. a request with an idempotency key already served is answered with
//     its certificate, and a contrassegno already used is refused, before
//     a number is reserved (each key and contrassegno is taken by one
//     issuance at a time in this process; the database refuses a second
//     use by another hub in step 4);
//  2. Numbering().Reserve hands out the protocol number and its
//     registration time, outside any transaction;
//  3. the certificate is composed, sealed and signed with that number
//     (build), and its PDF put in the blob store by its SHA-256;
//  4. one transaction writes the protocol entry, the record, the audit
//     entry of the read, the subject's notice and the payment's use, as
//     data through each domain's view; issuances ready together share
//     one transaction (group commit: one fsync for many);
//  5. Registered tells the numbering the entry committed; a number whose
//     issuance failed after step 2 is abandoned: given back while no later
//     number is registered, annulled otherwise, never left as a hole.
//
// A PDF put in step 3 whose transaction then failed is an orphan no record
// names, which retention's sweep deletes.

// built is what an issuance's build makes once it has its number.
type built struct {
	rec certificate.Record
	pdf []byte
	// audit is the entry of the read of the registry the certificate
	// shows; notice the subject's notice, if any; pay the payment used.
	audit  *audit.Entry
	notice *Notice
	pay    *payUse
	// use is the act recorded under the delegation the certificate was
	// obtained under, and delegateAudit the delegate's own audit entry.
	use           *delegation.Use
	delegateAudit *audit.Entry
}

type payUse struct {
	id    string
	claim payment.Claim
	now   time.Time
}

// idempotency identifies a client request: its key and the hash of its
// body. A zero key turns idempotency off (staff command line).
type idempotency struct{ key, hash string }

// pending is one issuance ready to commit.
type pending struct {
	entry protocol.Entry
	b     *built

	err  error
	wake chan bool // true: lead the next commit; false: err is the result
}

// reasonFailed is the reason of the annulment of a number whose issuance
// failed with err.
func reasonFailed(err error) string {
	msg := err.Error()
	if utf8.RuneCountInString(msg) > 200 {
		msg = string([]rune(msg)[:200]) + "…"
	}
	return protocol.ReasonFailed + " (" + msg + ")"
}

// commit issues one certificate through the steps above. It returns the
// stored record, and replayed true when it is the first answer to the
// same request.
func (s *Service) commit(ctx context.Context, reg protocol.Register, at time.Time, idem idempotency, contrassegno string, build func(protocol.Number, time.Time) (*built, error)) (certificate.Record, bool, error) {
	if err := ctx.Err(); err != nil {
		return certificate.Record{}, false, err
	}
	if err := reg.Check(); err != nil {
		return certificate.Record{}, false, fmt.Errorf("the certificates cannot be registered: %w", err)
	}
	if s.Blobs == nil {
		return certificate.Record{}, false, errors.New("the hub has no store for certificates' documents")
	}
	if idem.key != "" {
		unlock, err := s.keys.lock(ctx, idem.key)
		if err != nil {
			return certificate.Record{}, false, err
		}
		defer unlock()
		if rec, found, err := s.replay(ctx, idem); found || err != nil {
			return rec, err == nil, err
		}
	}
	if contrassegno != "" {
		unlock, err := s.marks.lock(ctx, contrassegno)
		if err != nil {
			return certificate.Record{}, false, err
		}
		defer unlock()
		var owner string
		err = s.Stores.View(ctx, func(tx store.Tx) (err error) {
			owner, err = tx.Certificates().ContrassegnoOwner(contrassegno)
			return err
		})
		if err == nil && owner != "" {
			err = certificate.ContrassegnoUsed(contrassegno, owner)
		}
		if err != nil {
			return certificate.Record{}, false, err
		}
	}
	numbers := s.Stores.Numbering()
	n, stamped, err := numbers.Reserve(ctx, at, reg)
	if err != nil {
		return certificate.Record{}, false, protocol.AllocationFailed(err)
	}
	// From here on the number must end registered, given back or annulled,
	// whatever happens to ctx: a reserved number is not left behind.
	ctx = context.WithoutCancel(ctx)
	settled := false
	defer func() {
		// A panicking renderer still must not leave its number behind; the
		// panic goes on to the caller (net/http recovers it per request).
		if r := recover(); r != nil {
			if !settled {
				_ = s.abandon(ctx, n, nil, reasonFailed(fmt.Errorf("%v", r)))
			}
			panic(r)
		}
	}()
	p, err := s.prepare(ctx, n, stamped, idem, contrassegno, build)
	settled = true
	if err != nil {
		return certificate.Record{}, false, s.abandon(ctx, n, err, reasonFailed(err))
	}
	if err := s.group.commit(ctx, s, p); err != nil {
		var replay *certificate.ReplayError
		switch {
		case errors.As(err, &replay):
			// Another hub served the same request meanwhile: the first
			// issuance wins and this one's number goes.
			if err := s.abandon(ctx, n, nil, "richiesta duplicata: la chiave di idempotenza era già stata usata per il certificato "+replay.Record.ID); err != nil {
				return certificate.Record{}, false, err
			}
			return replay.Record, true, nil
		case errors.Is(err, protocol.ErrImmutable):
			// The register already holds this number: a commit reported
			// as failed that reached the store after all (an fsync error
			// after the write). The number is used; giving it back would
			// fail every issuance after this one on it.
			s.registered(ctx, n)
			return certificate.Record{}, false, err
		}
		return certificate.Record{}, false, s.abandon(ctx, n, err, reasonFailed(err))
	}
	s.registered(ctx, n)
	return p.b.rec, false, nil
}

// prepare builds the certificate, checks it against its number, keeps its
// PDF and makes its protocol entry.
func (s *Service) prepare(ctx context.Context, n protocol.Number, at time.Time, idem idempotency, contrassegno string, build func(protocol.Number, time.Time) (*built, error)) (*pending, error) {
	b, err := build(n, at)
	switch {
	case err != nil:
		return nil, err
	case b == nil || b.rec.ID == "":
		return nil, errors.New("the issued certificate has no id")
	case b.rec.Protocol != n.String():
		return nil, fmt.Errorf("the certificate carries protocol number %q but was assigned %s", b.rec.Protocol, n)
	case len(b.pdf) == 0:
		return nil, errors.New("the issued certificate has no document")
	case b.rec.Contrassegno != contrassegno:
		return nil, fmt.Errorf("the certificate carries contrassegno %q but %q was claimed", b.rec.Contrassegno, contrassegno)
	}
	sum, err := s.Blobs.Put(ctx, b.pdf)
	if err != nil {
		return nil, fmt.Errorf("the certificate's document could not be kept: %w", err)
	}
	r := &b.rec
	who := r.RequesterCF
	if who == "" {
		who = r.Requester.String()
	}
	if r.OperatorID != "" {
		who += " presso esercente " + r.OperatorID
	}
	p := &pending{b: b, entry: protocol.Entry{
		Number:        n,
		Time:          at,
		Direction:     protocol.Outgoing,
		Correspondent: who,
		Subject:       fmt.Sprintf("%s, %s (%s)", r.Title, r.SubjectName, r.SubjectCF),
		DocType:       "certificato anagrafico",
		DocSHA256:     sum,
		Ref:           r.ID,
	}}
	if err := p.entry.Validate(); err != nil {
		return nil, err
	}
	r.Issued = at
	r.DocSHA256 = sum.String()
	r.Status = certificate.Valid
	r.RevokedAt, r.RevokeReason, r.RevokedBy = time.Time{}, "", ""
	r.IdempotencyKey, r.RequestHash = idem.key, idem.hash
	return p, nil
}

// write makes p's changes in tx but its audit entry (writeAudit).
func (s *Service) write(tx store.Tx, p *pending) error {
	if err := tx.Protocol().Write(p.entry); err != nil {
		return err
	}
	if err := tx.Certificates().Put(p.b.rec); err != nil {
		return err
	}
	if u := p.b.use; u != nil {
		// Refused if the delegator revoked it since the check.
		if err := tx.Delegations().RecordUse(*u); err != nil {
			return err
		}
	}
	if n := p.b.notice; n != nil && s.Notices != nil {
		if err := s.Notices.Notice(tx, *n); err != nil {
			return err
		}
	}
	if u := p.b.pay; u != nil {
		if err := tx.Payments().Use(u.id, u.claim, p.b.rec.ID, u.now); err != nil {
			return err
		}
	}
	return nil
}

// AppendAudit appends e in tx as the desk appends its own entries, so it
// is anchored with them: for the acts other services commit in the hub's
// transactions (the delegations').
func (s *Service) AppendAudit(tx store.Tx, e audit.Entry) error { return s.appendAudit(tx, e) }

// writeAudit appends p's audit entries in tx: the read's, and the
// delegation's when a delegate asked.
func (s *Service) writeAudit(tx store.Tx, p *pending) error {
	for _, e := range []*audit.Entry{p.b.audit, p.b.delegateAudit} {
		if e == nil {
			continue
		}
		if err := s.appendAudit(tx, *e); err != nil {
			return err
		}
	}
	return nil
}

// appendAudit appends an issued certificate's audit entry in its
// transaction; when the store anchors (store.AnchorAudit) the hub's
// anchorer anchors it after the commit.
func (s *Service) appendAudit(tx store.Tx, e audit.Entry) error {
	_, err := tx.Audit().Append(e)
	return err
}

// wantsAudit says whether issued certificates get an audit entry: always
// on a hub, whose store anchors or whose Audit is set.
func (s *Service) wantsAudit() bool {
	_, anchoring := s.Stores.(*store.Anchoring)
	return anchoring || s.Audit != nil
}

// replay looks idem's key up: found with the first record, or a conflict.
func (s *Service) replay(ctx context.Context, idem idempotency) (rec certificate.Record, found bool, err error) {
	err = s.Stores.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Certificates().ByIdempotencyKey(idem.key, idem.hash)
		return err
	})
	switch {
	case errors.Is(err, certificate.ErrNotFound):
		return rec, false, nil
	case err != nil:
		var conflict *certificate.ConflictError
		return rec, errors.As(err, &conflict), err
	}
	return rec, true, nil
}

func (s *Service) abandon(ctx context.Context, n protocol.Number, cause error, reason string) error {
	annulled, err := s.Stores.Numbering().Abandon(ctx, n, s.now(), reason, "")
	if annulled != nil && s.Log != nil {
		s.Log.Warn("protocol number annulled", "protocol", annulled.Number.String(), "reason", annulled.Reason())
	}
	if err != nil {
		if cause == nil {
			return err
		}
		return fmt.Errorf("%w; %w", cause, err)
	}
	return cause
}

// registered tells the numbering n's entry committed; numbers abandoned
// below it are annulled then, which the log reports.
func (s *Service) registered(ctx context.Context, n protocol.Number) {
	annulled, err := s.Stores.Numbering().Registered(ctx, n, s.now())
	if s.Log == nil {
		return
	}
	for _, e := range annulled {
		s.Log.Warn("protocol number annulled", "protocol", e.Number.String(), "reason", e.Reason())
	}
	if err != nil {
		s.Log.Error("protocol numbering", "protocol", n.String(), "err", err)
	}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// PDF returns the issued PDF of rec from the blob store:
// certificate.ErrPDFExpired once retention deleted it.
func (s *Service) PDF(ctx context.Context, rec certificate.Record) ([]byte, error) {
	return store.CertificatePDF(ctx, s.Stores, s.Blobs, rec)
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

func (g *group) commit(ctx context.Context, s *Service, p *pending) error {
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

	s.commitAll(ctx, batch)

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

// commitAll writes batch in one transaction. A failed issuance may have
// left part of its writes in the transaction, so it rolls everything back
// and each issuance is retried alone: one failure cannot sink the others.
//
// The audit entries go last: the first append takes the chain's head,
// which every hub on a shared database appends to, until the commit
// (audit.Tx), so the batch's other writes are made before it rather than
// while other hubs wait for it.
func (s *Service) commitAll(ctx context.Context, batch []*pending) {
	err := s.Stores.Update(ctx, func(tx store.Tx) error {
		for _, step := range []func(store.Tx, *pending) error{s.write, s.writeAudit} {
			for _, p := range batch {
				if p.err = step(tx, p); p.err != nil {
					if len(batch) > 1 {
						return errSolo
					}
					return p.err
				}
			}
		}
		return nil
	})
	if errors.Is(err, errSolo) {
		for _, p := range batch {
			p.err = nil
			s.commitAll(ctx, []*pending{p})
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

// keyLocks serialises the issuances of one key (an idempotency key, a
// contrassegno) in this process, so concurrent duplicates wait for the
// first and then find its certificate.
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
