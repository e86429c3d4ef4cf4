// Package reminder sends citizens reminders through the notification
// queue (package notify: App IO and e-mail) and keeps, per citizen, the
// channel they want each kind of reminder on (issue 17, item 6).
//
// Two ways in:
//   - events: the domain that changes something (a request's status, a
//     delegation used) calls Enqueue in the transaction that makes the
//     change, so the change is never committed without its reminder queued
//     nor the reverse;
//   - scheduled: Scan runs every day (and at each hub start) over Sources
//     (CIE expiring within 90 days, appointments tomorrow) and enqueues
//     what is due.
//
// Each reminder has a deterministic key (kind + what it is about), which
// is its notification's id: the queue refuses a second item with an id it
// holds, settled or not, so a reminder found again by the next scan, or
// after a restart, or enqueued again by a retried transaction is never
// sent twice; and since the queue is in the hub's store, nothing enqueued
// is lost across a restart.
//
// This package knows nothing of HTTP, SMTP or storage.
package reminder

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/registry"
)

// Kind is a kind of reminder; citizens choose a channel per kind.
type Kind string

const (
	// CIEExpiry: the citizen's CIE expires within 90 days, with a link to
	// book the renewal appointment.
	CIEExpiry Kind = "cie-expiry"
	// RequestStatus: a request the citizen filed changed status
	// (accepted, refused, more documents asked for).
	RequestStatus Kind = "request-status"
	// Appointment: the citizen has an appointment at the registry office
	// tomorrow.
	Appointment Kind = "appointment"
	// DelegationUsed: someone the citizen delegated acted for them.
	DelegationUsed Kind = "delegation-used"
)

// Kinds is every kind, in the order screens list them.
var Kinds = []Kind{CIEExpiry, RequestStatus, Appointment, DelegationUsed}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// Italian is the kind's name on Italian screens.
func (k Kind) Italian() string {
	switch k {
	case CIEExpiry:
		return "Scadenza della carta d'identità"
	case RequestStatus:
		return "Stato delle pratiche"
	case Appointment:
		return "Promemoria degli appuntamenti"
	case DelegationUsed:
		return "Uso delle deleghe"
	}
	return string(k)
}

// English is the kind's name on English screens.
func (k Kind) English() string {
	switch k {
	case CIEExpiry:
		return "Identity card expiry"
	case RequestStatus:
		return "Status of requests"
	case Appointment:
		return "Appointment reminders"
	case DelegationUsed:
		return "Use of delegations"
	}
	return string(k)
}

// Choice is the channel a citizen wants a kind of reminder on.
type Choice string

const (
	Both  Choice = "both"  // App IO and e-mail: the default, as for certificate notices
	AppIO Choice = "appio" // App IO only
	Email Choice = "email" // e-mail only
	None  Choice = "none"  // no reminders of this kind
)

// Choices is every choice, in the order screens list them.
var Choices = []Choice{Both, AppIO, Email, None}

// Valid reports whether c is one of Choices.
func (c Choice) Valid() bool {
	for _, x := range Choices {
		if c == x {
			return true
		}
	}
	return false
}

// Italian is the choice on Italian screens.
func (c Choice) Italian() string {
	switch c {
	case Both:
		return "App IO ed e-mail"
	case AppIO:
		return "Solo App IO"
	case Email:
		return "Solo e-mail"
	case None:
		return "Nessun promemoria"
	}
	return string(c)
}

// Allows reports whether c lets a reminder go out on channel (a
// notify.Notifier's Channel: "appio", "email").
func (c Choice) Allows(channel string) bool {
	switch c {
	case Both, "":
		return true
	case None:
		return false
	}
	return string(c) == channel
}

// Preferences are one citizen's choices.
type Preferences struct {
	CF string `json:"cf"`
	// Choices by kind; a kind with no entry is Both.
	Choices map[Kind]Choice `json:"choices,omitempty"`
	// Who last changed them and when: "citizen:<kiosk key id>" at a
	// kiosk, "staff:<user>" in the console or at the command line.
	By      string    `json:"by,omitempty"`
	Updated time.Time `json:"updated,omitzero"`
}

// Choice is the channel p wants kind on.
func (p Preferences) Choice(kind Kind) Choice {
	if c, ok := p.Choices[kind]; ok && c.Valid() {
		return c
	}
	return Both
}

// Tx is the preferences' view of one hub transaction
// (store.Tx.Reminders). Every backend passes the suite in package
// remindertest.
type Tx interface {
	// Preferences returns cf's choices: Preferences{CF: cf} with no
	// choices when cf never chose (so every kind is Both).
	Preferences(cf string) (Preferences, error)
	// SetPreference records cf's choice for kind (ErrInvalid for an
	// unknown kind or choice, or an empty cf), by whom and when.
	SetPreference(cf string, kind Kind, c Choice, by string, at time.Time) error
	// All returns every stored choice, by cf then kind, each with its own
	// author and time: what `hub migrate` moves.
	All() ([]Chosen, error)
}

// ErrInvalid is a preference that cannot be recorded.
var ErrInvalid = fault.New(fault.Invalid, "reminder_pref_invalid", "the reminder preference is not valid")

// Txs is the part of a hub transaction Enqueue needs; store.Tx is one.
type Txs interface {
	Reminders() Tx
	Notices() notify.Tx
	Registry() registry.Writer
}

// Reminder is one reminder to one citizen, before the citizen's choice
// of channel is applied.
type Reminder struct {
	Kind Kind
	// Key is what the reminder is about within its kind, deterministic
	// (the same event or the same due date gives the same key): "the CIE
	// CA12345AB expiring 2027-03-01 of cf", "appointment 42 at …".
	Key string
	CF  string
	// Subject and Markdown follow App IO's limits (notify.Message).
	Subject  string
	Markdown string
	// Expires, when set, is when the reminder stops being useful (the
	// appointment's start, the card's expiry): it is not queued from
	// then, and a queued one not yet delivered is dropped.
	Expires time.Time
}

// ID is the reminder's notification id: its deterministic key in the
// queue, apart from certificates' ids (which never contain '/').
func (r Reminder) ID() string { return "reminder/" + string(r.Kind) + "/" + r.Key }

func (r Reminder) check() error {
	if !r.Kind.Valid() {
		return fmt.Errorf("unknown reminder kind %q", r.Kind)
	}
	if strings.TrimSpace(r.Key) == "" {
		return fmt.Errorf("a %s reminder needs a key", r.Kind)
	}
	return nil
}

// Skip is what a delivery on a channel the citizen turned off records.
const skipNote = "the citizen chose not to receive these reminders on this channel"

// Channels are the notification channels a Choice selects among: the
// Channel names of notify/appio and notify/mail.
var Channels = []string{"appio", "email"}

// Enqueue queues r in tx unless the citizen chose None for its kind or is
// dead; it reports whether it queued something new (false too when r's
// key was queued already). The e-mail address comes from the registry:
// callers give only the codice fiscale. Channels the citizen turned off
// for r's kind are marked skipped at once, so the sender never sends on
// them.
func Enqueue(tx Txs, r Reminder, now time.Time) (bool, error) {
	if err := r.check(); err != nil {
		return false, err
	}
	prefs, err := tx.Reminders().Preferences(r.CF)
	if err != nil {
		return false, err
	}
	if !r.Expires.IsZero() && !now.Before(r.Expires) {
		return false, nil
	}
	choice := prefs.Choice(r.Kind)
	if choice == None {
		return false, nil
	}
	var email string
	switch p, err := tx.Registry().PersonByCF(r.CF); {
	case err == nil:
		if !p.Alive() {
			return false, nil
		}
		email = p.Email
	case errors.Is(err, registry.ErrNotFound), errors.Is(err, registry.ErrAmbiguous):
		// Not a resident (a delegate from elsewhere, say), or a code the
		// registry cannot tell apart: App IO addresses by codice fiscale
		// all the same, and no e-mail address is guessed.
	default:
		return false, err
	}
	id := r.ID()
	if _, err := tx.Notices().Get(id); err == nil {
		return false, nil
	} else if !errors.Is(err, notify.ErrNotFound) {
		return false, err
	}
	it := notify.Item{ID: id, Enqueued: now, Expires: r.Expires,
		Message: notify.Message{CF: r.CF, Email: email, Subject: r.Subject, Markdown: r.Markdown}}
	for _, ch := range Channels {
		if !choice.Allows(ch) {
			if it.Deliveries == nil {
				it.Deliveries = map[string]notify.Delivery{}
			}
			it.Deliveries[ch] = notify.Delivery{State: notify.Skipped, LastError: skipNote}
		}
	}
	if err := tx.Notices().Enqueue(it); err != nil {
		return false, err
	}
	return true, nil
}

// CheckPreference is what every Tx.SetPreference checks; it returns cf
// as stored (upper case, trimmed).
func CheckPreference(cf string, kind Kind, c Choice) (string, error) {
	cf = strings.ToUpper(strings.TrimSpace(cf))
	switch {
	case len(cf) != 16:
		return "", fmt.Errorf("%w: codice fiscale %q must have 16 characters", ErrInvalid, cf)
	case !kind.Valid():
		return "", fmt.Errorf("%w: unknown kind of reminder %q", ErrInvalid, kind)
	case !c.Valid():
		return "", fmt.Errorf("%w: unknown choice %q (want both, appio, email or none)", ErrInvalid, c)
	}
	return cf, nil
}

// Stored is one choice as kept, one per citizen and kind, so two hubs setting two
// kinds at once lose neither.
type Stored struct {
	Choice  Choice    `json:"choice"`
	By      string    `json:"by,omitempty"`
	Updated time.Time `json:"updated,omitzero"`
}

// Chosen is one stored choice with whose and which kind it is.
type Chosen struct {
	CF   string
	Kind Kind
	Stored
}

// Add folds one stored choice into p (the latest change gives By and
// Updated).
func (p *Preferences) Add(kind Kind, s Stored) {
	if p.Choices == nil {
		p.Choices = map[Kind]Choice{}
	}
	p.Choices[kind] = s.Choice
	if p.By == "" || s.Updated.After(p.Updated) {
		p.By, p.Updated = s.By, s.Updated
	}
}
