package kiosk

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/api"
)

// Till payments at the shop's counter (issue 15 item 4). A self-service
// kiosk inside a shop takes no money: it shows the citizen a short code
// (api.PayAtTill), the citizen pays at the shop's till, and the clerk at
// the counter, logged in by name, confirms that code here. The hub lists
// the shop's payments waiting for the counter and records who confirmed
// each (api.PathPaymentConfirm needs the clerk's session); the kiosk at
// the counter only shows them and keeps the money taken in its day's
// account (Sale.Method MethodTill).

// StepTill is the operator's list of the till payments waiting for the
// counter, with the field where the clerk types or scans a code.
const StepTill Step = "till"

// Till is what the till screen shows.
type Till struct {
	// Pending are the shop's till payments waiting for the counter, as
	// the hub listed them at Checked, oldest first.
	Pending []api.Payment
	Checked time.Time
	// Confirmed is the payment the clerk confirmed last on this screen.
	Confirmed *api.Payment
}

// tillReady says whether this kiosk confirms till payments: a counter,
// with a clerk logged in (the hub records who confirmed), and a payments
// client.
func (f *Flow) tillReady() bool {
	return f.cfg.Mode == Operator && f.deps.Payments != nil && f.v.Staff != nil
}

// ShowTill lists the till payments waiting for the counter (from the
// identification screen: "Pagamenti alla cassa").
func (f *Flow) ShowTill(ctx context.Context) error {
	done, err := f.begin(StepIdentify, StepTill)
	if err != nil {
		return err
	}
	defer done()
	f.mu.Lock()
	ready := f.tillReady()
	f.mu.Unlock()
	if !ready {
		return f.fail(problem("wrong_step", "till payments are confirmed at a shop's counter by a clerk logged in", nil))
	}
	hctx, cancel := f.ctx(ctx)
	list, err := f.deps.Payments.PendingTill(hctx)
	cancel()
	f.noteHub(err)
	if err != nil {
		return f.fail(hubProblem(err))
	}
	now := f.deps.Clock.Now()
	f.update(func(v *View) {
		v.Till = &Till{Pending: tillOrder(list), Checked: now}
		v.Status.TillPending = len(list)
		v.Step = StepTill
	})
	return nil
}

// TillCode reads a till payment's code as typed or as a barcode or QR
// scanner types it: letters upper case, spaces and dashes (a code read
// aloud in groups) and the scanner's Enter dropped.
func TillCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return -1
	}, s)
}

// ConfirmTill confirms that the till took the money for the payment with
// code: the hub marks it paid under the clerk's name, and the self-service
// kiosk waiting on it prints. The amount goes into the day's account as a
// till payment for self-service. A refusal (a code no payment of this shop
// has, one already confirmed, expired) is the catalogue's sentence for
// the hub's reason.
func (f *Flow) ConfirmTill(ctx context.Context, code string) error {
	done, err := f.begin(StepTill)
	if err != nil {
		return err
	}
	defer done()
	code = TillCode(code)
	if code == "" {
		return f.fail(problem("till_code_missing", "type or scan the code the citizen shows", nil))
	}
	f.mu.Lock()
	ready := f.tillReady()
	staff := ""
	if f.v.Staff != nil {
		staff = f.v.Staff.ID
	}
	f.mu.Unlock()
	if !ready {
		return f.fail(problem("wrong_step", "till payments are confirmed at a shop's counter by a clerk logged in", nil))
	}
	hctx, cancel := f.ctx(ctx)
	p, err := f.deps.Payments.ConfirmTill(hctx, code)
	cancel()
	f.noteHub(err)
	if err != nil {
		return f.fail(hubProblem(err))
	}
	now := f.deps.Clock.Now()
	f.journal(Sale{Time: now, Staff: staff, Method: MethodTill, Payment: p.ID, Types: p.Types, Total: p.AmountCents})
	// The list as it stands now; if it cannot be read, the old one less
	// the payment confirmed.
	hctx, cancel = f.ctx(ctx)
	list, lerr := f.deps.Payments.PendingTill(hctx)
	cancel()
	f.update(func(v *View) {
		if lerr != nil && v.Till != nil {
			list = slices.DeleteFunc(slices.Clone(v.Till.Pending), func(q api.Payment) bool { return q.ID == p.ID })
		}
		v.Till = &Till{Pending: tillOrder(list), Checked: now, Confirmed: p}
		v.Status.TillPending = len(list)
	})
	return nil
}

// CloseTill goes back to identification.
func (f *Flow) CloseTill() error {
	done, err := f.begin(StepTill)
	if err != nil {
		return err
	}
	defer done()
	f.update(func(v *View) { v.Till, v.Step = nil, StepIdentify })
	return nil
}

// refreshTill counts the till payments waiting, for the identification
// screen's button, at each status poll that reached the hub.
func (f *Flow) refreshTill(ctx context.Context) (int, bool) {
	f.mu.Lock()
	ready := f.tillReady() && (f.v.Step == StepIdentify || f.v.Step == StepTill)
	f.mu.Unlock()
	if !ready {
		return 0, false
	}
	list, err := f.deps.Payments.PendingTill(ctx)
	if err != nil {
		return 0, false
	}
	return len(list), true
}

func tillOrder(ps []api.Payment) []api.Payment {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b api.Payment) int { return a.Created.Compare(b.Created) })
	return out
}
