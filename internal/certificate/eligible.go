package certificate

import "github.com/sportello/sportello/internal/registry"

// Verdict is whether one type may be issued about a subject to a requester
// on a channel, as Eligible judges it: Reason is empty when it may, else
// the reason code (and Message the sentence) issuance would refuse it with.
type Verdict struct {
	Type    Type
	Reason  string
	Message string
}

// Eligible judges each type of types (every type when nil) alone, about
// d's subject for req's requester on req's channel under req's agreement
// (req.Types and req.At are ignored), by the very rules Check applies when
// it is asked to issue, so what a kiosk offers and what the hub issues
// cannot differ. It changes nothing and records nothing: the caller audits
// the read of d, as for any look-up.
//
// A historical type is judged without its date, which the requester gives
// afterwards (Check refuses then a date outside the subject's history).
// The caller must have decided that the requester may see the subject at
// all (CheckHousehold) before it tells them anything of this.
func Eligible(d *SubjectData, req Request, types []Type) []Verdict {
	if types == nil {
		types = Types()
	}
	out := make([]Verdict, 0, len(types))
	for _, t := range types {
		one := req
		one.Types, one.At, one.undated = []Type{t}, registry.Date{}, true
		v := Verdict{Type: t}
		if _, err := Check(d, one); err != nil {
			v.Reason, v.Message = ReasonOf(err), err.Error()
			if v.Reason == "" {
				// Check refuses only with a *Refusal; anything else
				// is no grant either.
				v.Reason = "internal"
			}
		}
		out = append(out, v)
	}
	return out
}

// ReasonOf is the reason code of a refusal, or "" for another error.
func ReasonOf(err error) string {
	if r, ok := AsRefusal(err); ok {
		return r.Reason
	}
	return ""
}
