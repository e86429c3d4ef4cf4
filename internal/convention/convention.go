// Package convention assembles the convention kit: what a city hands its
// privacy officer and a shop about that shop's agreement. The kit is the
// agreement (convenzione) with the controls of the lawful counter filled
// in, the list of enabled clerks, the retention settings and the shop's
// audit extract for a period, each file with its SHA-256 in a manifest.
//
// Every section comes from the domain it belongs to through a small
// interface (Sources). A source left nil is a control this hub does not
// apply: the kit says so in words and never prints a value for it, because
// a privacy officer signs what the document states.
//
// It knows nothing of storage or HTTP; time is a parameter.
package convention

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
)

// Errors; returned errors wrap them.
var (
	// ErrNoAgreement: the operator has no convention to export (a
	// registry office, or an application without its agreement yet).
	ErrNoAgreement = errors.New("no agreement")
	// ErrPeriod: the period asked for is not a period.
	ErrPeriod = errors.New("invalid period")
)

// City is who the agreement is with, as printed.
type City struct {
	Comune  string // "Comune di Milano"
	Office  string // the issuing office
	Address string // the office's address; may be empty
}

// Requesters is who may obtain what under the agreement and how the
// requester is identified, as the hub enforces it.
type Requesters struct {
	// Identification lists the means the hub accepts to identify the
	// requester, in Italian ("CIE: ...", "codice fiscale e documento ...").
	Identification []string
	// Widening is the agreement's widening of the self-and-household rule;
	// nil when the rule applies as is (the default).
	Widening *Widening
}

// Widening is an agreement's permission to issue beyond the requester's
// own household, with the legal basis the city named for it.
type Widening struct {
	Scope string // what it allows, in Italian
	Basis string // the legal basis, as the city recorded it
}

// Clerk is a named person enabled to issue in the shop.
type Clerk struct {
	Name         string
	CF           string
	TrainedOn    registry.Date
	EnabledUntil registry.Date
	Status       string // in Italian: "abilitato", "sospeso", ...
	Login        string // how they log in, in Italian: "CIE e PIN", "password e TOTP"
}

// Setting is one named value of a control, already worded in Italian by
// the domain that owns it ("Richieste al minuto per dispositivo", "10").
type Setting struct {
	Label string
	Value string
}

// Retention is how long the hub keeps what the shop's work leaves behind.
type Retention struct {
	// RecordMonths is how long issuance records and their audit entries
	// are kept before the purge.
	RecordMonths int
	// PDFDays is how long an issued PDF can be downloaded again.
	PDFDays int
	// Other settings of the retention domain, worded by it.
	Other []Setting
}

// Sources is where each section of the kit comes from. Operators and
// Audit are required; a nil source is a control not applied by this hub.
type Sources struct {
	Operators OperatorSource
	Audit     AuditSource
	Requester RequesterSource
	Clerks    ClerkSource
	Limits    LimitSource
	Retention RetentionSource
	AccessLog AccessLogSource
	Notices   NoticeSource
}

// OperatorSource is the shop and its devices.
type OperatorSource interface {
	Get(id string) (*operators.Operator, error)
	Devices(id string) ([]*operators.Device, error)
}

// AuditSource searches the audit log.
type AuditSource interface {
	Search(q audit.Query, limit int) ([]audit.Entry, error)
}

// RequesterSource says who may obtain what through this shop.
type RequesterSource interface {
	Requesters(o *operators.Operator) (Requesters, error)
}

// ClerkSource lists the shop's clerks, enabled or not, and the rules
// their log-in is held to.
type ClerkSource interface {
	Clerks(operatorID string) ([]Clerk, error)
	ClerkRules() ([]Setting, error)
}

// LimitSource gives the limits and anomaly thresholds that apply to the
// shop, its devices and its clerks.
type LimitSource interface {
	Limits(operatorID string) ([]Setting, error)
}

// RetentionSource gives the city's retention settings.
type RetentionSource interface {
	Retention() (Retention, error)
}

// AccessLogSource describes what the citizen sees of the reads and
// certificates about them.
type AccessLogSource interface {
	AccessLog() ([]Setting, error)
}

// NoticeSource describes how the subject of a certificate obtained by
// someone else is told of it.
type NoticeSource interface {
	Notices() ([]Setting, error)
}

// Period is the inclusive range of days of the audit extract, in Rome.
type Period struct {
	From, To protocol.Day
}

func (p Period) String() string {
	return fmt.Sprintf("%s–%s", italianDay(p.From), italianDay(p.To))
}

func italianDay(d protocol.Day) string {
	return fmt.Sprintf("%02d/%02d/%04d", d.Day, int(d.Month), d.Year)
}

// Kit is everything the export writes, gathered from the sources.
type Kit struct {
	City      City
	Operator  *operators.Operator
	Devices   []*operators.Device
	Period    Period
	Generated time.Time

	// Each pointer is nil when its source is: the control is not applied.
	Requesters *Requesters
	Clerks     *[]Clerk
	ClerkRules []Setting
	Limits     *[]Setting
	Retention  *Retention
	AccessLog  *[]Setting
	Notices    *[]Setting

	// Audit is the shop's extract: entries made by the shop or any of its
	// devices (revoked ones too) in Period, in log order.
	Audit []audit.Entry
}

// Gather reads the kit of operator id for period p at instant now. A zero
// p.From is the agreement's signing day; a zero p.To is now's day.
func Gather(src Sources, city City, id string, p Period, now time.Time) (*Kit, error) {
	o, err := src.Operators.Get(id)
	if err != nil {
		return nil, err
	}
	if o.Agreement == nil {
		if o.Category == operators.RegistryOffice {
			return nil, fmt.Errorf("%w: %s is a registry office of the city, which works under no agreement", ErrNoAgreement, o.ID)
		}
		return nil, fmt.Errorf("%w: operator %s has no agreement with the city yet", ErrNoAgreement, o.ID)
	}
	if p.From == (protocol.Day{}) {
		s := o.Agreement.Signed
		p.From = protocol.Day{Year: s.Year, Month: s.Month, Day: s.Day}
	}
	if p.To == (protocol.Day{}) {
		p.To = protocol.DayOf(now)
	}
	if p.To.Before(p.From) {
		return nil, fmt.Errorf("%w: the period ends on %s, before it starts on %s", ErrPeriod, p.To, p.From)
	}
	devs, err := src.Operators.Devices(id)
	if err != nil {
		return nil, err
	}
	k := &Kit{City: city, Operator: o, Devices: devs, Period: p, Generated: now}
	if k.Audit, err = shopEntries(src.Audit, o, devs, p); err != nil {
		return nil, fmt.Errorf("cannot read the audit log: %w", err)
	}
	if src.Requester != nil {
		r, err := src.Requester.Requesters(o)
		if err != nil {
			return nil, err
		}
		k.Requesters = &r
	}
	if src.Clerks != nil {
		cs, err := src.Clerks.Clerks(o.ID)
		if err != nil {
			return nil, err
		}
		k.Clerks = &cs
		if k.ClerkRules, err = src.Clerks.ClerkRules(); err != nil {
			return nil, err
		}
	}
	// A nil source is a control this hub does not apply: its section stays
	// nil and the agreement says so instead of printing a value.
	if src.Limits != nil {
		if k.Limits, err = present(src.Limits.Limits(o.ID)); err != nil {
			return nil, err
		}
	}
	if src.Retention != nil {
		if k.Retention, err = present(src.Retention.Retention()); err != nil {
			return nil, err
		}
	}
	if src.AccessLog != nil {
		if k.AccessLog, err = present(src.AccessLog.AccessLog()); err != nil {
			return nil, err
		}
	}
	if src.Notices != nil {
		if k.Notices, err = present(src.Notices.Notices()); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// present turns a source's answer into a kit section: v, now known.
func present[T any](v T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// shopActors are the audit actors that act for o: the shop itself and
// every device it ever enrolled, since a revoked device's past reads are
// still the shop's.
func shopActors(o *operators.Operator, devs []*operators.Device) []audit.Actor {
	as := []audit.Actor{{Kind: audit.Operator, ID: o.ID}}
	for _, d := range devs {
		if d.OperatorID == o.ID {
			as = append(as, audit.Actor{Kind: audit.Device, ID: d.KeyID})
		}
	}
	return as
}

func shopEntries(src AuditSource, o *operators.Operator, devs []*operators.Device, p Period) ([]audit.Entry, error) {
	var all []audit.Entry
	for _, a := range shopActors(o, devs) {
		es, err := src.Search(audit.Query{Actor: a.String(), From: p.From, To: p.To}, 0)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	}
	slices.SortFunc(all, func(a, b audit.Entry) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	return slices.CompactFunc(all, func(a, b audit.Entry) bool { return a.Seq == b.Seq }), nil
}

// EnabledClerks are the clerks whose status is "abilitato"; the rest are
// listed apart in the agreement.
func (k *Kit) EnabledClerks() []Clerk {
	if k.Clerks == nil {
		return nil
	}
	var out []Clerk
	for _, c := range *k.Clerks {
		if strings.EqualFold(c.Status, StatusEnabled) {
			out = append(out, c)
		}
	}
	return out
}

// StatusEnabled is the status a clerk source gives an enabled clerk.
const StatusEnabled = "abilitato"

// actorLabel says which device or shop an audit actor is, for the extract.
func (k *Kit) actorLabel(a audit.Actor) string {
	if a.Kind == audit.Device {
		for _, d := range k.Devices {
			if d.KeyID == a.ID {
				return fmt.Sprintf("dispositivo %s (%s)", d.Name, d.KeyID)
			}
		}
	}
	if a.Kind == audit.Operator {
		return "esercente " + a.ID
	}
	return a.String()
}

// clerkLabel names the clerk an entry records, if any.
func clerkLabel(c audit.Clerk) string {
	switch {
	case c.ID == "":
		return ""
	case c.Name == "":
		return c.ID
	}
	return c.Name + " (" + c.ID + ")"
}

// NotApplied names, in English for the command line, the controls whose
// source was missing: the agreement says they are not applied.
func (k *Kit) NotApplied() []string {
	var out []string
	if k.Requesters == nil {
		out = append(out, "requester identification and the self-and-household rule")
	}
	if k.Clerks == nil {
		out = append(out, "named clerks")
	}
	if k.Limits == nil {
		out = append(out, "limits and anomaly thresholds")
	}
	if k.Retention == nil {
		out = append(out, "retention")
	}
	if k.AccessLog == nil {
		out = append(out, "the citizen's access log")
	}
	if k.Notices == nil {
		out = append(out, "notices to the subject")
	}
	return out
}
