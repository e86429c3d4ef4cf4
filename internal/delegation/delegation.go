// Package delegation is the citizens' delegations (issue 17): a resident
// (the delegator) lets another person (the delegate, by codice fiscale)
// act for them for chosen services — certificates about the delegator of
// named types, requests of named kinds, appointments — until a date. The
// delegate, identified as usual at a counter or a kiosk, then obtains
// those certificates as the delegator would; every use is recorded under
// both names and the delegator is told of it.
//
// The legal frame, and so the limits New enforces:
//   - A certificate outside the registry office goes only to the person and
//     to their own famiglia anagrafica (DM Interno 3.11.2021 art. 2). A
//     delegation widens that by the delegator's own will and no further: it
//     covers certificates about the delegator only, never about the
//     delegator's household, whose members may delegate for themselves.
//   - An instance or declaration to a public administration may be filed
//     through someone else, signed by the declarant, with a copy of the
//     declarant's identity document (DPR 445/2000 art. 38 c. 3): the
//     delegator is identified when the delegation is given and the
//     delegation stands for that signed delega.
//   - Acts that the law wants made in person are not delegable: the
//     disposizioni anticipate di trattamento are delivered personally by
//     their author (L. 219/2017 art. 4 c. 6), a convivenza di fatto is
//     declared by both cohabitants (L. 76/2016 c. 37, DPR 223/1989 art. 13
//     c. 1 lett. b).
//   - Only an adult with legal capacity may give or receive a delegation
//     (codice civile art. 2: capacity comes at 18).
//
// This package owns its store's interface (Tx), its errors and rules; it
// imports no store, bbolt or pgx.
package delegation

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request"
)

// Reason codes of the delegations' refusals; each has its sentence in the
// kiosk's and the console's catalogues ("hub_"+reason).
const (
	ReasonSelf           = "delegation_to_self"
	ReasonMinor          = "delegation_to_minor"
	ReasonDelegatorMinor = "delegation_by_minor"
	ReasonDelegateCF     = "delegation_delegate_cf_invalid"
	ReasonUntilPast      = "delegation_until_past"
	ReasonUntilTooFar    = "delegation_until_too_far"
	ReasonNoScope        = "delegation_no_scope"
	ReasonScopeNotLawful = "delegation_scope_not_allowed"
	ReasonUnknownScope   = "delegation_scope_unknown"
	ReasonNotFound       = "delegation_not_found"
	ReasonRevoked        = "delegation_revoked"
	ReasonExpired        = "delegation_expired"
	ReasonNotDelegator   = "delegation_not_delegator"
	ReasonOutOfScope     = "delegation_out_of_scope"
)

// Reasons lists every reason code of this package, for the API's list and
// the catalogues' tests.
func Reasons() []string {
	return []string{ReasonSelf, ReasonMinor, ReasonDelegatorMinor, ReasonDelegateCF, ReasonUntilPast, ReasonUntilTooFar,
		ReasonNoScope, ReasonScopeNotLawful, ReasonUnknownScope, ReasonNotFound, ReasonRevoked, ReasonExpired,
		ReasonNotDelegator, ReasonOutOfScope}
}

// Sentinel errors of the store and the rules; the refusals built here wrap
// them, so errors.Is works across the API.
var (
	ErrNotFound = errors.New("no such delegation")
	ErrExists   = errors.New("a delegation with this id exists")
	// ErrNotLive: revoked or past its date.
	ErrNotLive = errors.New("the delegation is no longer in force")
	ErrInvalid = errors.New("invalid delegation")
)

// MaxDuration is the longest a delegation may last from the day it is
// given. The law sets no term for a delega; a year keeps a forgotten one
// from lasting for ever, and the delegator may give it again.
const MaxDuration = 366 * 24 * time.Hour

// AdultAge is the age of legal capacity (codice civile art. 2).
const AdultAge = 18

// Appointments is the scope's name for booking, moving and cancelling the
// delegator's appointments.
const Appointments = "appuntamenti"

// Request kinds a delegation may cover (internal/request): filed for the
// delegator under DPR 445/2000 art. 38 c. 3. A kind the law wants filed in
// person is in notDelegable.
var delegableRequests = []string{string(request.AddressChange), string(request.ResidenceChange), string(request.Historical), string(request.Correction)}

// notDelegable are the request kinds no delegation may cover, with why.
var notDelegable = map[string]string{
	string(request.DAT):          "the disposizioni anticipate di trattamento are delivered in person by their author (L. 219/2017 art. 4 c. 6)",
	string(request.Cohabitation): "a convivenza di fatto, and its end, are declared by the cohabitants themselves (L. 76/2016 c. 37)",
}

// Scope is what a delegation lets the delegate do for the delegator.
type Scope struct {
	// Certificates are the certificate types (certificate.Type) about the
	// delegator the delegate may obtain.
	Certificates []string `json:"certificates,omitempty"`
	// Requests are the request kinds the delegate may file for the
	// delegator.
	Requests []string `json:"requests,omitempty"`
	// Appointments lets the delegate book, move and cancel the
	// delegator's appointments.
	Appointments bool `json:"appointments,omitempty"`
}

// Empty reports whether s covers nothing.
func (s Scope) Empty() bool {
	return len(s.Certificates) == 0 && len(s.Requests) == 0 && !s.Appointments
}

// CoversCertificates reports whether s covers every one of types.
func (s Scope) CoversCertificates(types []string) bool {
	if len(types) == 0 {
		return false
	}
	for _, t := range types {
		if !slices.Contains(s.Certificates, t) {
			return false
		}
	}
	return true
}

// CoversRequest reports whether s covers filing a request of kind.
func (s Scope) CoversRequest(kind string) bool { return slices.Contains(s.Requests, kind) }

// Describe is the scope in Italian, for receipts, notices and the dossier.
func (s Scope) Describe() string {
	var parts []string
	if len(s.Certificates) > 0 {
		parts = append(parts, "certificati: "+strings.Join(s.Certificates, ", "))
	}
	if len(s.Requests) > 0 {
		parts = append(parts, "pratiche: "+strings.Join(s.Requests, ", "))
	}
	if s.Appointments {
		parts = append(parts, "appuntamenti")
	}
	return strings.Join(parts, "; ")
}

// Delegation is one delegation, as stored.
type Delegation struct {
	ID            string `json:"id"`
	DelegatorCF   string `json:"delegator_cf"`
	DelegatorName string `json:"delegator_name"`
	DelegateCF    string `json:"delegate_cf"`
	// DelegateName is the delegate's name as the registry holds it, empty
	// for a delegate who is not resident.
	DelegateName string `json:"delegate_name,omitempty"`
	Scope        Scope  `json:"scope"`
	// Until is the last day the delegation may be used, in Rome.
	Until   registry.Date `json:"until"`
	Created time.Time     `json:"created"`
	// Channel and Place are where it was given (a kiosk, a shop's
	// counter, the office) and by whom (the device or staff member).
	Channel string `json:"channel"`
	Place   string `json:"place,omitempty"`
	Actor   string `json:"actor,omitempty"`
	// Revoked is when the delegator withdrew it; zero while in force.
	Revoked   time.Time `json:"revoked,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
	// Uses counts the acts done under it.
	Uses int `json:"uses"`
}

// Live reports whether d may be used at now: not revoked, and now's day in
// Rome not after Until.
func (d Delegation) Live(now time.Time) bool {
	return d.Revoked.IsZero() && !d.Until.Before(registry.DateOf(now.In(protocol.Rome)))
}

// State is d's state at now in Italian: "attiva", "revocata", "scaduta".
func (d Delegation) State(now time.Time) string {
	switch {
	case !d.Revoked.IsZero():
		return "revocata"
	case !d.Live(now):
		return "scaduta"
	}
	return "attiva"
}

// Use is one act done under a delegation.
type Use struct {
	DelegationID string    `json:"delegation_id"`
	At           time.Time `json:"at"`
	// Service is what was done: "certificato residenza".
	Service string `json:"service"`
	// Ref is the act's record: the certificate's id, the request's
	// protocol number.
	Ref     string `json:"ref"`
	Channel string `json:"channel"`
	Place   string `json:"place,omitempty"`
}

// Tx is the delegations' view of one hub transaction.
type Tx interface {
	// Put stores a new delegation; ErrExists if its id is taken.
	Put(d Delegation) error
	// Get returns the delegation id, or ErrNotFound.
	Get(id string) (Delegation, error)
	// Given lists the delegations cf gave, newest first; Received those
	// given to cf, newest first. Revoked and expired ones are listed too.
	Given(cf string) ([]Delegation, error)
	Received(cf string) ([]Delegation, error)
	// Revoke withdraws delegation id at at on behalf of by; ErrNotFound,
	// or ErrNotLive when it was already revoked. On a database several
	// hubs share, a revocation and a use of the same delegation are
	// ordered: a use that commits after the revocation is refused.
	Revoke(id string, at time.Time, by string) (Delegation, error)
	// RecordUse records u under its delegation and counts it, refusing
	// with ErrNotLive a delegation revoked or expired at u.At (checked
	// under the delegation's lock, in the transaction of the act).
	RecordUse(u Use) error
	// Uses lists the acts done under delegation id, oldest first.
	Uses(id string) ([]Use, error)
	// All returns every delegation, whatever its state, newest first (as
	// Sort orders them): what `hub migrate` moves.
	All() ([]Delegation, error)
}

// NewID is a new delegation id: "D" and 16 hex digits.
func NewID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("cannot make a delegation id: %w", err)
	}
	return "D" + strings.ToUpper(hex.EncodeToString(b[:])), nil
}

// Grant is a delegation as the delegator asks for it.
type Grant struct {
	// Delegator is the delegator, identified by the caller (CIE and PIN
	// at a kiosk, document at a counter or the office), from the
	// registry.
	Delegator *registry.Person
	// DelegateCF is the delegate's codice fiscale; Delegate their registry
	// record when they are resident, else nil (their age then comes from
	// the code).
	DelegateCF string
	Delegate   *registry.Person
	Scope      Scope
	Until      registry.Date
	Channel    string
	Place      string
	Actor      string
}

func refuse(k fault.Kind, reason, format string, args ...any) error {
	return &fault.Error{Kind: k, Reason: reason, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
}

// New checks g against the rules of the package comment and returns the
// delegation to store, with a new id.
func New(g Grant, now time.Time, rnd io.Reader) (Delegation, error) {
	if g.Delegator == nil {
		return Delegation{}, errors.New("the delegator must be identified before a delegation is given")
	}
	today := registry.DateOf(now.In(protocol.Rome))
	cf := strings.ToUpper(strings.TrimSpace(g.DelegateCF))
	if err := codicefiscale.Validate(cf); err != nil {
		return Delegation{}, refuse(fault.Invalid, ReasonDelegateCF, "the delegate's codice fiscale is not valid: %v", err)
	}
	if same(cf, g.Delegator.CF) || g.Delegate != nil && g.Delegate.ID == g.Delegator.ID {
		return Delegation{}, refuse(fault.Invalid, ReasonSelf, "a person cannot delegate themself.")
	}
	if age := g.Delegator.BirthDate.AgeAt(today); age < AdultAge {
		return Delegation{}, refuse(fault.Invalid, ReasonDelegatorMinor, "a minor cannot give a delegation (codice civile art. 2): the parents act for them.")
	}
	birth, err := delegateBirth(cf, g.Delegate, now)
	if err != nil {
		return Delegation{}, refuse(fault.Invalid, ReasonDelegateCF, "the delegate's codice fiscale is not valid: %v", err)
	}
	if birth.AgeAt(today) < AdultAge {
		return Delegation{}, refuse(fault.Invalid, ReasonMinor, "the delegate is a minor: only an adult may act for someone else (codice civile art. 2).")
	}
	if g.Delegate != nil && !g.Delegate.Alive() {
		return Delegation{}, refuse(fault.Invalid, ReasonDelegateCF, "the delegate's codice fiscale belongs to a deceased person.")
	}
	switch {
	case g.Until.IsZero() || g.Until.Before(today) || g.Until == today:
		return Delegation{}, refuse(fault.Invalid, ReasonUntilPast, "the delegation must last until a date after today, %s.", today.Italian())
	case g.Until.Time().After(today.Time().Add(MaxDuration)):
		return Delegation{}, refuse(fault.Invalid, ReasonUntilTooFar, "a delegation lasts at most one year: give a date up to %s.", registry.DateOf(today.Time().Add(MaxDuration)).Italian())
	}
	scope, err := checkScope(g.Scope)
	if err != nil {
		return Delegation{}, err
	}
	id, err := NewID(rnd)
	if err != nil {
		return Delegation{}, err
	}
	d := Delegation{ID: id, DelegatorCF: g.Delegator.CF, DelegatorName: g.Delegator.FullName(), DelegateCF: cf,
		Scope: scope, Until: g.Until, Created: now, Channel: g.Channel, Place: g.Place, Actor: g.Actor}
	if g.Delegate != nil {
		d.DelegateCF, d.DelegateName = g.Delegate.CF, g.Delegate.FullName()
	}
	return d, nil
}

// Same reports whether two codici fiscali are one person's, omocodes
// included.
func Same(a, b string) bool { return same(a, b) }

func same(a, b string) bool {
	ba, err1 := codicefiscale.Base(a)
	bb, err2 := codicefiscale.Base(b)
	if err1 != nil || err2 != nil {
		return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
	}
	return ba == bb
}

// delegateBirth is the delegate's birth date: the registry's, else the one
// the code carries.
func delegateBirth(cf string, p *registry.Person, now time.Time) (registry.Date, error) {
	if p != nil && !p.BirthDate.IsZero() {
		return p.BirthDate, nil
	}
	info, err := codicefiscale.Decode(cf, nil, now)
	if err != nil {
		return registry.Date{}, err
	}
	return registry.DateOf(info.Birth), nil
}

// checkScope refuses an empty scope, unknown names and what the law does
// not let anyone delegate; it returns the scope with names normalised and
// sorted.
func checkScope(s Scope) (Scope, error) {
	var out Scope
	for _, t := range s.Certificates {
		ct, err := certificate.ParseType(t)
		if err != nil {
			return Scope{}, refuse(fault.Invalid, ReasonUnknownScope, "%q is not a certificate type.", t)
		}
		if !slices.Contains(out.Certificates, string(ct)) {
			out.Certificates = append(out.Certificates, string(ct))
		}
	}
	for _, k := range s.Requests {
		k = strings.ToLower(strings.TrimSpace(k))
		if why, ok := notDelegable[k]; ok {
			return Scope{}, refuse(fault.Invalid, ReasonScopeNotLawful, "requests of kind %q cannot be delegated: %s.", k, why)
		}
		if !slices.Contains(delegableRequests, k) {
			return Scope{}, refuse(fault.Invalid, ReasonUnknownScope, "%q is not a kind of request a delegation may cover (%s).", k, strings.Join(delegableRequests, ", "))
		}
		if !slices.Contains(out.Requests, k) {
			out.Requests = append(out.Requests, k)
		}
	}
	out.Appointments = s.Appointments
	if out.Empty() {
		return Scope{}, refuse(fault.Invalid, ReasonNoScope, "a delegation must name at least one service: certificates, requests or appointments.")
	}
	slices.Sort(out.Certificates)
	slices.Sort(out.Requests)
	return out, nil
}

// DelegableRequests are the request kinds a delegation may cover.
func DelegableRequests() []string { return slices.Clone(delegableRequests) }

// Revoke is the delegator's withdrawal of d: only the delegator may.
func CheckRevoker(d Delegation, cf string) error {
	if !same(d.DelegatorCF, cf) {
		return &fault.Error{Kind: fault.Forbidden, Reason: ReasonNotDelegator, Msg: "only the person who gave a delegation may revoke it.", Err: ErrInvalid}
	}
	return nil
}

// Find returns, among ds, a delegation live at now from delegatorCF to
// delegateCF whose scope covers the certificate types, preferring the one
// that lasts longest; ok false when none covers them, with found true when
// a live one from the delegator to the delegate exists but covers less
// (the caller refuses then with ReasonOutOfScope).
func Find(ds []Delegation, delegatorCF, delegateCF string, types []string, now time.Time) (d Delegation, ok, found bool) {
	for _, c := range ds {
		if !same(c.DelegatorCF, delegatorCF) || !same(c.DelegateCF, delegateCF) || !c.Live(now) {
			continue
		}
		found = true
		if c.Scope.CoversCertificates(types) && (!ok || d.Until.Before(c.Until)) {
			d, ok = c, true
		}
	}
	return d, ok, found
}

// Sort orders ds newest first.
func Sort(ds []Delegation) {
	slices.SortStableFunc(ds, func(a, b Delegation) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
}

// NotLive is the refusal of a use of d at now, revoked or expired.
func NotLive(d Delegation, now time.Time) error {
	if !d.Revoked.IsZero() {
		return &fault.Error{Kind: fault.Gone, Reason: ReasonRevoked, Msg: fmt.Sprintf("delegation %s was revoked on %s.", d.ID, d.Revoked.In(protocol.Rome).Format("02/01/2006")), Err: ErrNotLive}
	}
	return &fault.Error{Kind: fault.Gone, Reason: ReasonExpired, Msg: fmt.Sprintf("delegation %s expired on %s.", d.ID, d.Until.Italian()), Err: ErrNotLive}
}
