package payment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Gateway is the city's creditor-institution service for pagoPA (package
// gpd implements it for PagoPA's "Gestione Posizioni Debitorie"): the hub
// opens a debt position for each PagoPA payment, published so that any
// PSP (a banking app, a post office) can collect it by its notice number,
// and asks whether it is paid.
type Gateway interface {
	// CreatePosition opens and publishes a debt position of one payment
	// option; it answers the position as created (IUPD, IUV, notice
	// number, creditor). A service that does not answer is ErrServiceDown.
	CreatePosition(ctx context.Context, p Position) (Position, error)
	// PositionStatus is where the position iupd stands.
	PositionStatus(ctx context.Context, iupd string) (PositionStatus, error)
	// CancelPosition withdraws an unpaid position, so that it can no
	// longer be paid (the citizen gave up).
	CancelPosition(ctx context.Context, iupd string) error
	// Creditor is the creditor institution's codice fiscale.
	Creditor() string
}

// Position is one debt position with one payment option.
type Position struct {
	IUPD, IUV, NoticeNumber, CreditorCF string
	AmountCents                         int64
	Description                         string
	Due                                 time.Time
	// The debtor: the citizen asking for the certificate.
	DebtorCF, DebtorName string
}

// PositionStatus is what the service says of a position.
type PositionStatus struct {
	Paid    bool
	PaidAt  time.Time
	Receipt string
	// Closed: the position can no longer be paid (expired, invalidated).
	Closed bool
	Status string // the service's own word, for the log
}

// Service runs payments: their creation, the till's confirmation, pagoPA's
// status, expiry and cancellation, on a Store with an injected clock.
type Service struct {
	Store   Store
	Gateway Gateway // nil: the hub offers no pagoPA
	Now     func() time.Time
	Rand    io.Reader // ids and till codes; crypto/rand when nil
	// TTL is how long a payment may stay pending; DefaultTTL when zero.
	TTL time.Duration
}

// DefaultTTL is how long a pending payment waits: long enough to walk to
// the till or pay in a banking app, short enough that a forgotten code
// does not linger on the shop's screen.
const DefaultTTL = 30 * time.Minute

func (s *Service) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultTTL
}

// Order is what is to be paid: the template of a new payment.
type Order struct {
	Method               Method
	AmountCents          int64
	RequestKey           string
	RequestHash          string
	DeviceKeyID          string
	OperatorID           string
	Types                []string
	SubjectName          string
	SubjectCF            string
	DebtorCF, DebtorName string
	Description          string // the debt position's causale
}

// Create takes a payment for o, or answers the live payment already taken
// for its request key (created = false). A live payment of the key for
// another request (hash, amount or method) is ErrMismatch: cancel it first.
func (s *Service) Create(ctx context.Context, o Order) (p Payment, created bool, err error) {
	if o.Method == PagoPA && s.Gateway == nil {
		return Payment{}, false, fmt.Errorf("%w: this hub has no pagoPA service configured", ErrMethod)
	}
	if o.Method != PagoPA && o.Method != Till {
		return Payment{}, false, fmt.Errorf("%w: %q is neither %s nor %s", ErrMethod, o.Method, Till, PagoPA)
	}
	if o.AmountCents <= 0 {
		return Payment{}, false, fmt.Errorf("%w: the request costs nothing; it needs no payment", ErrMethod)
	}
	if prev, ok, err := s.live(o.RequestKey); err != nil || ok {
		if err == nil && (prev.RequestHash != o.RequestHash || prev.AmountCents != o.AmountCents || prev.Method != o.Method) {
			err = fmt.Errorf("%w: payment %s (%s, %d cents) was taken for this request key; cancel it before asking for another", ErrMismatch, prev.ID, prev.Method, prev.AmountCents)
		}
		return prev, false, err
	}
	now := s.Now().UTC()
	id, err := NewID(s.Rand)
	if err != nil {
		return Payment{}, false, err
	}
	p = Payment{ID: id, Method: o.Method, State: Pending, AmountCents: o.AmountCents, RequestKey: o.RequestKey, RequestHash: o.RequestHash,
		DeviceKeyID: o.DeviceKeyID, OperatorID: o.OperatorID, Created: now, Expires: now.Add(s.ttl()), Types: o.Types, SubjectName: o.SubjectName, SubjectCF: o.SubjectCF}
	if o.Method == PagoPA {
		pos, err := s.Gateway.CreatePosition(ctx, Position{AmountCents: o.AmountCents, Description: o.Description, Due: p.Expires,
			DebtorCF: o.DebtorCF, DebtorName: o.DebtorName})
		if err != nil {
			return Payment{}, false, err
		}
		p.IUPD, p.IUV, p.NoticeNumber, p.CreditorCF = pos.IUPD, pos.IUV, pos.NoticeNumber, pos.CreditorCF
		err = s.Store.Create(&p)
		if errors.Is(err, ErrKeyTaken) {
			// Another request with the key won meanwhile: withdraw ours.
			_ = s.Gateway.CancelPosition(ctx, p.IUPD)
			prev, _, lerr := s.live(o.RequestKey)
			if lerr != nil {
				return Payment{}, false, lerr
			}
			return prev, false, nil
		}
		if err != nil {
			// Not stored: the notice must not stay payable at pagoPA.
			_ = s.Gateway.CancelPosition(ctx, p.IUPD)
		}
		return p, err == nil, err
	}
	for range 8 {
		if p.TillCode, err = NewTillCode(s.Rand); err != nil {
			return Payment{}, false, err
		}
		err = s.Store.Create(&p)
		if !errors.Is(err, ErrCodeTaken) {
			break
		}
	}
	if errors.Is(err, ErrKeyTaken) {
		prev, _, lerr := s.live(o.RequestKey)
		if lerr != nil {
			return Payment{}, false, lerr
		}
		return prev, false, nil
	}
	return p, err == nil, err
}

// live is the live payment of key, with expiry applied.
func (s *Service) live(key string) (Payment, bool, error) {
	p, err := s.Store.ByKey(key)
	if errors.Is(err, ErrNotFound) {
		return Payment{}, false, nil
	}
	if err != nil {
		return Payment{}, false, err
	}
	if p.State == Pending && !s.Now().Before(p.Expires) {
		if p, err = s.expire(p.ID); err != nil {
			return Payment{}, false, err
		}
	}
	return p, p.Live(), nil
}

func (s *Service) expire(id string) (Payment, error) {
	return s.Store.Update(id, func(p *Payment) error { p.Due(s.Now()); return nil })
}

// Get is the payment as it stands now: a pending pagoPA payment is asked
// of the Gateway first, and recorded paid when it is; a pending one past
// its expiry is expired. A Gateway that does not answer leaves it pending
// (the kiosk asks again).
func (s *Service) Get(ctx context.Context, id string) (Payment, error) {
	p, err := s.Store.Get(id)
	if err != nil {
		return p, err
	}
	if p.State != Pending {
		return p, nil
	}
	if p.Method == PagoPA && s.Gateway != nil && p.IUPD != "" {
		st, err := s.Gateway.PositionStatus(ctx, p.IUPD)
		if err != nil {
			return p, err
		}
		if st.Paid {
			at := st.PaidAt
			if at.IsZero() {
				at = s.Now()
			}
			return s.Store.Update(id, func(q *Payment) error {
				if q.State != Pending {
					return nil
				}
				// Paid at pagoPA is paid, whatever our own expiry says:
				// the money was collected, so the certificate is due.
				q.State, q.Paid, q.Receipt = Paid, at.UTC(), st.Receipt
				return nil
			})
		}
	}
	if !s.Now().Before(p.Expires) {
		return s.expire(id)
	}
	return p, nil
}

// Cancel drops a pending payment; a pagoPA position is withdrawn first so
// it cannot be paid afterwards. A paid or used payment is ErrTransition.
func (s *Service) Cancel(ctx context.Context, id string) (Payment, error) {
	p, err := s.Get(ctx, id)
	if err != nil && !errors.Is(err, ErrServiceDown) {
		return p, err
	}
	if p.State != Pending {
		return s.Store.Update(id, func(q *Payment) error { return q.Cancel(s.Now()) })
	}
	if p.Method == PagoPA && s.Gateway != nil && p.IUPD != "" {
		if err := s.Gateway.CancelPosition(ctx, p.IUPD); errors.Is(err, ErrTransition) {
			// Paid meanwhile: it stays paid, as the service says.
			q, gerr := s.Get(ctx, id)
			if gerr != nil {
				return q, gerr
			}
			return q, err
		} else if err != nil {
			return p, err
		}
	}
	return s.Store.Update(id, func(q *Payment) error { return q.Cancel(s.Now()) })
}

// ConfirmTill records that the shop operatorID's till took the money for
// the pending till payment with code: a code the shop does not hold
// pending is ErrNotFound, whatever another shop holds.
func (s *Service) ConfirmTill(operatorID, code, clerkID, clerkName string) (Payment, error) {
	code = NormaliseTillCode(code)
	p, err := s.Store.ByTillCode(operatorID, code)
	if err != nil {
		return p, err
	}
	if p.OperatorID != operatorID || p.Method != Till {
		return Payment{}, fmt.Errorf("%w: no till payment %s at this shop", ErrNotFound, code)
	}
	switch p.State {
	case Paid, Used:
		return p, nil // a confirmation repeated (a double tap): the same answer
	case Cancelled, Expired:
		return p, fmt.Errorf("%w: the till payment %s is %s; the kiosk must ask for a new one", ErrExpired, code, p.State)
	}
	return s.Store.Update(p.ID, func(q *Payment) error { return q.MarkPaid(s.Now(), clerkID, clerkName, "") })
}

// PendingTill lists the till payments of operatorID waiting for the
// counter, oldest first.
func (s *Service) PendingTill(operatorID string) ([]Payment, error) {
	now := s.Now()
	ps, err := s.Store.Since(operatorID, now.Add(-s.ttl()))
	if err != nil {
		return nil, err
	}
	out := make([]Payment, 0, len(ps))
	for _, p := range ps {
		if p.Method == Till && p.State == Pending && now.Before(p.Expires) {
			out = append(out, p)
		}
	}
	return out, nil
}
