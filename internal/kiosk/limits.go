package kiosk

import (
	"errors"

	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/outbox"
)

// OutboxLimits are the outbox's offline limits under the agreement: the
// city's, as the hub last gave them, or the defaults when it never did.
func OutboxLimits(a *Agreement) outbox.Limits {
	l := operators.DefaultOfflineLimits
	if a != nil && a.Offline != nil {
		l = a.Offline.Effective()
	}
	return outbox.Limits{MaxAge: l.MaxAge(), MaxCount: l.Count, MaxAmountCents: l.TotalCents, MaxOperationCents: l.OperationCents}
}

// limitProblem is the screen's sentence for a sale the outbox refused for
// an offline limit: the limit by name and value, and what is waiting, in
// the operator's language (keys offline_limit_*); nil for other errors.
func limitProblem(err error) *Problem {
	var le *outbox.LimitError
	if !errors.As(err, &le) {
		return nil
	}
	l, st := le.Limits, le.Stats
	switch le.Kind {
	case outbox.LimitOperationAmount:
		return problem("offline_limit_max_operation_amount", le.Error(), err, fees.Euro(l.MaxOperationCents))
	case outbox.LimitAmount:
		return problem("offline_limit_max_amount", le.Error(), err, fees.Euro(l.MaxAmountCents), fees.Euro(st.AmountCents))
	case outbox.LimitCount:
		return problem("offline_limit_max_count", le.Error(), err, l.MaxCount)
	case outbox.LimitAge:
		return problem("offline_limit_max_age", le.Error(), err, int(l.MaxAge.Hours()))
	}
	return problem("offline_limit", le.Error(), err)
}

// setAsideCounter is an Outbox that also counts the sales set aside for
// the operator, for the status bar; Queue is one.
type setAsideCounter interface {
	SetAside() (int, error)
}

// SetAside counts the sales the hub refused, or failed on SetAsideAfter
// times in a row, that wait for the operator.
func (q *Queue) SetAside() (int, error) {
	st, err := q.Outbox.Stats()
	return st.Refused, err
}
