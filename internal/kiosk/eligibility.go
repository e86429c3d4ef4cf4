package kiosk

import (
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
)

// Eligibility is what the hub said, at the look-up, a requester may have
// about one subject on this kiosk's channel (api.Eligibility): the types it
// would refuse, each with the reason code of that refusal, judged by the
// rules it issues by. The choose screen offers only the others and says
// why each of these is missing; Choose refuses them too.
type Eligibility struct {
	// Told is false when the hub said nothing (an older hub, or a person
	// the kiosk could not ask about): every type is offered and the hub
	// decides at issue.
	Told    bool
	Missing []Missing
}

// Missing is one type a subject may not have, and why (a hub reason code,
// whose sentence is the catalogue's "hub_"+Reason).
type Missing struct {
	Type   certificate.Type
	Reason string
}

// Why returns the reason code t is missing for, or "" when t may be had
// (or the hub said nothing).
func (e Eligibility) Why(t certificate.Type) string {
	for _, m := range e.Missing {
		if m.Type == t {
			return m.Reason
		}
	}
	return ""
}

// eligibilityOf maps the hub's answer; nil is a hub that did not say.
func eligibilityOf(e *api.Eligibility) Eligibility {
	if e == nil {
		return Eligibility{}
	}
	out := Eligibility{Told: true}
	for _, m := range e.Missing {
		out.Missing = append(out.Missing, Missing{Type: certificate.Type(m.Type), Reason: m.Reason})
	}
	return out
}

// EligibilityOf is what the requester of p may have about the subject cf:
// p themself or a member of p's family; the zero Eligibility (not told)
// for anyone else, about whom the hub decides at issue.
func (p *Person) EligibilityOf(cf string) Eligibility {
	if p == nil {
		return Eligibility{}
	}
	if cf == p.CF {
		return p.Eligibility
	}
	for _, m := range p.Family {
		if m.CF == cf {
			return m.Eligibility
		}
	}
	return Eligibility{}
}
