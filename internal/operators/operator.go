// Package operators is the programme's network: the shops and access points
// that issue certificates under an agreement with the city, the registry
// offices beside them, the devices each operator enrols, and the directory
// citizens use to find one open nearby.
//
// It is pure domain: no storage, no HTTP. Time is always a parameter.
package operators

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/fees"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/registry"
)

// Errors; returned errors wrap them.
var (
	ErrInvalid    = errors.New("invalid operator data")
	ErrTransition = errors.New("status change not allowed")
	ErrNotFound   = errors.New("not found")
)

// Category is the kind of point of service.
type Category string

// Categories. Registry offices are the city's own counters: they appear in
// the directory but have no agreement and pay no fee.
const (
	Edicola        Category = "edicola"
	Tabaccheria    Category = "tabaccheria"
	Cartoleria     Category = "cartoleria"
	AccessPoint    Category = "access_point"
	SelfService    Category = "self_service_kiosk"
	RegistryOffice Category = "registry_office"
)

// Categories lists every category in a stable order.
var Categories = []Category{Edicola, Tabaccheria, Cartoleria, AccessPoint, SelfService, RegistryOffice}

// ParseCategory reads a category identifier.
func ParseCategory(s string) (Category, error) {
	for _, c := range Categories {
		if string(c) == strings.TrimSpace(strings.ToLower(s)) {
			return c, nil
		}
	}
	names := make([]string, len(Categories))
	for i, c := range Categories {
		names[i] = string(c)
	}
	return "", fmt.Errorf("%w: %q is not a category; use one of %s", ErrInvalid, s, strings.Join(names, ", "))
}

// Label is the Italian name shown to citizens.
func (c Category) Label() string {
	switch c {
	case Edicola:
		return "Edicola"
	case Tabaccheria:
		return "Tabaccheria"
	case Cartoleria:
		return "Cartoleria"
	case AccessPoint:
		return "Punto di accesso"
	case SelfService:
		return "Totem self-service"
	case RegistryOffice:
		return "Ufficio anagrafe"
	}
	return string(c)
}

// Address is where the operator is, with its coordinates (WGS 84).
type Address struct {
	Street string  `json:"street"`
	Number string  `json:"number"`
	CAP    string  `json:"cap"`
	City   string  `json:"city"`
	Lat    float64 `json:"lat"`
	Lon    float64 `json:"lon"`
}

func (a Address) String() string {
	return strings.TrimSpace(fmt.Sprintf("%s %s, %s %s", a.Street, a.Number, a.CAP, a.City))
}

// Point is the address's coordinates.
func (a Address) Point() Point { return Point{Lat: a.Lat, Lon: a.Lon} }

// Transit is the public transport nearest the operator, as shown to
// citizens: "M1", "M3" for metro lines, "S5", "R" for suburban rail.
type Transit struct {
	Metro    []string `json:"metro,omitempty"`
	Rail     []string `json:"rail,omitempty"`
	Stop     string   `json:"stop,omitempty"` // nearest station's name
	WalkMins int      `json:"walk_minutes,omitempty"`
}

// DefaultFeeCapCents is Milan's cap on the operator's service fee per
// certificate: 2.00 EUR.
const DefaultFeeCapCents = 200

// Agreement is the convention between the city and the operator.
type Agreement struct {
	Signed  registry.Date `json:"signed"`
	Expires registry.Date `json:"expires"`
	// FeeCents is the operator's service fee per certificate, on top of
	// bollo and diritti, within the city's cap.
	FeeCents int                `json:"fee_cents"`
	Types    []certificate.Type `json:"types"`
	// Widening, when set, lets the shop's counter issue about persons
	// outside the requester's own famiglia anagrafica, which DM Interno
	// 3 November 2021 art. 2 otherwise forbids outside the registry
	// office. It is the legal basis the city relies on, written out (say
	// "art. 33 DPR 223/1989 — certificati a chiunque ne faccia richiesta,
	// convenzione n. 12/2026"): the audit log names it on every issuance
	// it allows. Empty, the default: self and household only.
	Widening string `json:"widening,omitempty"`
}

// MinWideningBasis is the shortest legal basis a widening may name: a
// word like "yes" is a switch, not the article and convention it must cite.
const MinWideningBasis = 20

// Validate checks the agreement against the city's fee cap.
func (a *Agreement) Validate(capCents int) error {
	switch {
	case a.Signed.IsZero() || a.Expires.IsZero():
		return fmt.Errorf("%w: the agreement needs both a signing date and an expiry date", ErrInvalid)
	case !a.Signed.Before(a.Expires):
		return fmt.Errorf("%w: the agreement expires on %s, not after it was signed on %s", ErrInvalid, a.Expires, a.Signed)
	case a.FeeCents < 0:
		return fmt.Errorf("%w: the service fee cannot be negative (%d cents)", ErrInvalid, a.FeeCents)
	case a.FeeCents > capCents:
		return fmt.Errorf("%w: the service fee of %s exceeds the city's cap of %s per certificate", ErrInvalid, fees.Euro(int64(a.FeeCents)), fees.Euro(int64(capCents)))
	case len(a.Types) == 0:
		return fmt.Errorf("%w: the agreement allows no certificate type", ErrInvalid)
	case a.Widening != "" && len([]rune(strings.TrimSpace(a.Widening))) < MinWideningBasis:
		return fmt.Errorf("%w: a widening beyond the requester's household must name its legal basis (article and convention), at least %d characters; %q is not one", ErrInvalid, MinWideningBasis, a.Widening)
	}
	seen := map[certificate.Type]bool{}
	for _, t := range a.Types {
		if !t.Valid() {
			return fmt.Errorf("%w: %q is not a certificate type", ErrInvalid, t)
		}
		if seen[t] {
			return fmt.Errorf("%w: certificate type %s is listed twice in the agreement", ErrInvalid, t)
		}
		seen[t] = true
	}
	return nil
}

// InForce reports whether the agreement covers day d.
func (a *Agreement) InForce(d registry.Date) bool {
	return !d.Before(a.Signed) && !a.Expires.Before(d)
}

// Allows reports whether the agreement lets the operator issue type t.
func (a *Agreement) Allows(t certificate.Type) bool {
	for _, x := range a.Types {
		if x == t {
			return true
		}
	}
	return false
}

// Status is where an operator is in its lifecycle.
type Status string

// Statuses. An application is approved by staff, becomes active when its
// first device may work, may be suspended and reactivated, and is revoked
// for good.
const (
	Applied   Status = "applied"
	Approved  Status = "approved"
	Active    Status = "active"
	Suspended Status = "suspended"
	Revoked   Status = "revoked"
)

// ParseStatus reads a status identifier.
func ParseStatus(s string) (Status, error) {
	switch st := Status(strings.ToLower(strings.TrimSpace(s))); st {
	case Applied, Approved, Active, Suspended, Revoked:
		return st, nil
	}
	return "", fmt.Errorf("%w: %q is not a status; use applied, approved, active, suspended or revoked", ErrInvalid, s)
}

// transitions lists the allowed moves; anything else is refused.
var transitions = map[Status][]Status{
	Applied:   {Approved, Revoked},
	Approved:  {Active, Revoked},
	Active:    {Suspended, Revoked},
	Suspended: {Active, Revoked},
}

// Change is one entry of an operator's history.
type Change struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	From   Status    `json:"from,omitempty"`
	To     Status    `json:"to"`
	Reason string    `json:"reason,omitempty"`
}

// Operator is a point of service in the directory.
type Operator struct {
	ID         string     `json:"id"`
	LegalName  string     `json:"legal_name"`
	Name       string     `json:"name,omitempty"` // sign over the door, when not the legal name
	PartitaIVA string     `json:"partita_iva"`
	Category   Category   `json:"category"`
	Address    Address    `json:"address"`
	Hours      Hours      `json:"hours"`
	Transit    Transit    `json:"transit"`
	Agreement  *Agreement `json:"agreement,omitempty"` // nil for registry offices
	Status     Status     `json:"status"`
	History    []Change   `json:"history"`
}

// DisplayName is the name citizens know the operator by.
func (o *Operator) DisplayName() string {
	if o.Name != "" {
		return o.Name
	}
	return o.LegalName
}

// Policy is what the city sets for its programme.
type Policy struct {
	FeeCapCents int      // DefaultFeeCapCents when 0
	Calendar    Calendar // public holidays, for opening hours
	// Offline is what a kiosk may take while it cannot reach the hub,
	// handed to it with its agreement; see OfflineLimits.Effective.
	Offline OfflineLimits
}

func (p Policy) feeCap() int {
	if p.FeeCapCents > 0 {
		return p.FeeCapCents
	}
	return DefaultFeeCapCents
}

// Validate checks an operator's data as staff enter it.
func (o *Operator) Validate(p Policy) error {
	if strings.TrimSpace(o.LegalName) == "" {
		return fmt.Errorf("%w: the operator has no legal name", ErrInvalid)
	}
	piva, err := ValidatePartitaIVA(o.PartitaIVA)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	o.PartitaIVA = piva
	if _, err := ParseCategory(string(o.Category)); err != nil {
		return err
	}
	if err := validCoordinates(o.Address.Lat, o.Address.Lon); err != nil {
		return err
	}
	if strings.TrimSpace(o.Address.Street) == "" || strings.TrimSpace(o.Address.City) == "" {
		return fmt.Errorf("%w: the address needs a street and a city", ErrInvalid)
	}
	if err := o.Hours.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if o.Category == RegistryOffice {
		if o.Agreement != nil {
			return fmt.Errorf("%w: a registry office is the city's own and has no agreement", ErrInvalid)
		}
		return nil
	}
	if o.Agreement != nil {
		return o.Agreement.Validate(p.feeCap())
	}
	return nil
}

func validCoordinates(lat, lon float64) error {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return fmt.Errorf("%w: coordinates %g, %g are not a latitude and longitude", ErrInvalid, lat, lon)
	}
	if lat == 0 && lon == 0 {
		return fmt.Errorf("%w: the address has no coordinates (0, 0 is in the Gulf of Guinea)", ErrInvalid)
	}
	return nil
}

// Apply records a new application: status applied, first history entry.
func (o *Operator) Apply(p Policy, at time.Time, by string) error {
	if err := o.Validate(p); err != nil {
		return err
	}
	if strings.TrimSpace(by) == "" {
		return fmt.Errorf("%w: say who records the application", ErrInvalid)
	}
	o.Status = Applied
	o.History = []Change{{At: at.UTC(), By: by, To: Applied, Reason: "application received"}}
	return nil
}

// Transition moves the operator to status to, recording who, when and why.
// Approval and activation need an agreement in force that day (registry
// offices excepted); suspension and revocation need a reason, because the
// shop will ask.
func (o *Operator) Transition(to Status, at time.Time, by, reason string) error {
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrTransition, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(by) == "" {
		return refuse("say who changes the status of operator %s", o.ID)
	}
	if o.Status == to {
		return refuse("operator %s is already %s", o.ID, to)
	}
	allowed := false
	for _, s := range transitions[o.Status] {
		allowed = allowed || s == to
	}
	if !allowed {
		if o.Status == Revoked {
			return refuse("operator %s was revoked, which is final; file a new application instead", o.ID)
		}
		return refuse("operator %s is %s and cannot become %s; allowed next: %s", o.ID, o.Status, to, nextList(o.Status))
	}
	if (to == Suspended || to == Revoked) && strings.TrimSpace(reason) == "" {
		return refuse("give a reason to make operator %s %s", o.ID, to)
	}
	if (to == Approved || to == Active) && o.Category != RegistryOffice {
		day := registry.DateOf(at.In(Rome))
		switch {
		case o.Agreement == nil:
			return refuse("operator %s has no agreement with the city yet", o.ID)
		case !o.Agreement.InForce(day):
			return refuse("the agreement of operator %s runs from %s to %s, not on %s", o.ID, o.Agreement.Signed, o.Agreement.Expires, day)
		}
	}
	o.History = append(o.History, Change{At: at.UTC(), By: by, From: o.Status, To: to, Reason: reason})
	o.Status = to
	return nil
}

func nextList(s Status) string {
	var names []string
	for _, n := range transitions[s] {
		names = append(names, string(n))
	}
	return strings.Join(names, ", ")
}

// MayIssue reports whether the operator's devices may be served at instant
// at: active, with an agreement in force (registry offices need none).
func (o *Operator) MayIssue(at time.Time) error {
	if o.Status != Active {
		return fmt.Errorf("operator %s is %s, not active", o.ID, o.Status)
	}
	if o.Category == RegistryOffice {
		return nil
	}
	day := registry.DateOf(at.In(Rome))
	if o.Agreement == nil || !o.Agreement.InForce(day) {
		return fmt.Errorf("operator %s has no agreement in force on %s", o.ID, day)
	}
	return nil
}
