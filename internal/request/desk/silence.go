package desk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
)

// SilenceActor is who accepts a request by silence: no staff member, the
// law on the hub's clock.
var SilenceActor = audit.Actor{Kind: audit.System, ID: "silenzio-assenso"}

// SilenceDecision is the reasons an acceptance by silence records and the
// citizen's notice carries.
const SilenceDecision = "Accolta per silenzio-assenso: l'ufficio non ha respinto la dichiarazione entro 45 giorni " +
	"(art. 18 DPR 223/1989; art. 5 DL 5/2012, L. 35/2012; art. 20 L. 241/1990)."

// errDecided: the request was decided, or its term moved, between the
// queue's read and the step's transaction (another hub, a staff member).
var errDecided = errors.New("no longer due for silence-assent")

// AssentBySilence accepts every open residence or address change whose
// silence-assent term (SilenceDue) has passed, each exactly as a staff
// member's acceptance would (the registry change from the day of the
// declaration, the history, the audit entries, the citizen's notice) and
// marked as accepted by silence. Each is one transaction that re-reads the
// request holding it, so two hubs on one database, or a staff member
// deciding at the same moment, accept it once. It returns the requests it
// accepted; one whose change cannot be applied (its street gone from the
// city's list…) is reported in the error and the others still go.
func (d *Desk) AssentBySilence(ctx context.Context) ([]request.Request, error) {
	due, err := d.SilenceDueNow(ctx)
	if err != nil {
		return nil, err
	}
	return d.AcceptBySilence(ctx, due)
}

// SilenceDueNow is the open residence and address changes whose
// silence-assent term has passed at the desk's clock, as a read sees them.
func (d *Desk) SilenceDueNow(ctx context.Context) ([]request.Request, error) {
	now := d.now()
	var due []request.Request
	for _, k := range []request.Kind{request.AddressChange, request.ResidenceChange} {
		rs, err := d.Queue(ctx, k, request.Filed, request.MoreInfo)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if Silent(r, now) {
				due = append(due, r)
			}
		}
	}
	return due, nil
}

// AcceptBySilence accepts by silence those of due still due when its
// transaction holds each: due may have been read before another hub, or a
// staff member, decided some of them.
func (d *Desk) AcceptBySilence(ctx context.Context, due []request.Request) ([]request.Request, error) {
	if len(due) == 0 {
		return nil, nil
	}
	settings, err := d.Issuance.Settings()
	if err != nil {
		return nil, err
	}
	var done []request.Request
	var errs []error
	for _, r := range due {
		rec, err := d.step(ctx, r.ID, 0, SilenceActor, "system", "accepted by silence",
			"accoglimento per silenzio-assenso della dichiarazione anagrafica", true,
			func(tx store.Tx, rec *request.Request, now time.Time) error {
				if !Silent(*rec, now) {
					return errDecided
				}
				if err := d.apply(tx, rec, settings.Issuer.Belfiore, now); err != nil {
					return err
				}
				rec.Status, rec.Decision, rec.Decided, rec.BySilence = request.Accepted, SilenceDecision, now, true
				rec.History = append(rec.History, request.Event{Time: now, Actor: SilenceActor.String(),
					Action: request.ActionSilenceAssent, Note: SilenceDecision})
				return nil
			})
		switch {
		case errors.Is(err, errDecided):
		case err != nil:
			errs = append(errs, fmt.Errorf("request %s (protocol %s) is due for silence-assent: %w", r.ID, r.Protocol, err))
		default:
			done = append(done, rec)
		}
	}
	return done, errors.Join(errs...)
}
