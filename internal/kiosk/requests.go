package kiosk

import (
	"context"
	"strings"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/request"
)

// Steps of the citizen's requests (issue 17): the form of a new one and
// the receipt of one filed.
const (
	StepRequests     Step = "requests"
	StepRequestFiled Step = "request_filed"
)

// RequestsHub is a Hub that files the citizen's demographic requests.
type RequestsHub interface {
	FileRequest(ctx context.Context, req api.RequestFiling) (*api.Request, error)
}

// FileRequest implements RequestsHub.
func (h *ClientHub) FileRequest(ctx context.Context, req api.RequestFiling) (*api.Request, error) {
	r, err := h.C.FileRequest(ctx, req)
	return r, clientErr(err)
}

// KioskKinds are the request kinds the kiosk's screens file: those that
// need no attachment (a DAT and a correction carry a document, which
// neither a self-service kiosk nor a counter's touch screen can take)
// and whose form is short enough to type on a touch screen (a
// declaration of residence lists every person moving in, with their
// birth data, and a convivenza wants both partners present).
func KioskKinds() []request.Kind {
	return []request.Kind{request.AddressChange, request.Historical}
}

// RequestDraft is what the citizen typed on the request screen. Only the
// fields of Kind are used.
type RequestDraft struct {
	Kind request.Kind
	// AddressChange: the new dwelling; the requester moves.
	Street, Number, Internal string
	// Historical: what certificate, the date for a past family, what for.
	What, Date, Purpose string
	// Statement is the declaration under art. 76 DPR 445/2000.
	Statement bool
}

// form is the request form of the draft, for the requester cf; a date is
// taken as typed (28/02/1990) and sent as the hub reads it.
func (d RequestDraft) form(cf string) (request.Form, *Problem) {
	switch d.Kind {
	case request.AddressChange:
		return request.Form{Address: &request.AddressForm{Persons: []string{cf},
			NewAddress: request.NewAddress{Street: strings.TrimSpace(d.Street), Number: strings.TrimSpace(d.Number), Internal: strings.TrimSpace(d.Internal)},
			Statement:  d.Statement}}, nil
	case request.Historical:
		h := &request.HistoricalForm{SubjectCF: cf, What: d.What, Purpose: strings.TrimSpace(d.Purpose)}
		if d.What == HistoricalFamily {
			day, err := ParseDay(d.Date)
			if err != nil {
				return request.Form{}, problem("requests_date_invalid", err.Error(), err)
			}
			h.Date = day.String()
		}
		return request.Form{Historical: h}, nil
	}
	return request.Form{}, problem("requests_kind_unavailable", "this kind of request is not filed at the kiosk", nil)
}

// What a historical certificate shows (request.HistoricalForm.What).
const (
	HistoricalResidence = "residenza"
	HistoricalFamily    = "stato_di_famiglia"
)

// ShowRequests opens the form of a new request for the identified
// citizen: at the self-service kiosk after CIE and PIN, at a counter
// after the clerk identified them; from their choices or their dossier.
func (f *Flow) ShowRequests(ctx context.Context) error {
	done, err := f.begin(StepChoose, StepDossier, StepRequestFiled)
	if err != nil {
		return err
	}
	defer done()
	_, ev, _, p := f.requests()
	if p != nil {
		return f.fail(p)
	}
	wipeEvidence(ev)
	f.update(func(v *View) { v.Step, v.Filed, v.Problem = StepRequests, nil, nil })
	return nil
}

func (f *Flow) requests() (RequestsHub, *api.RequesterEvidence, string, *Problem) {
	if _, ok := f.deps.Hub.(RequestsHub); !ok {
		return nil, nil, "", problem("requests_unavailable", "this kiosk's hub connection cannot file requests", nil)
	}
	_, ev, channel, p := f.records("requests")
	return f.deps.Hub.(RequestsHub), ev, channel, p
}

// FileRequest files the draft for the identified citizen and shows the
// receipt with its protocol number. A
// refusal (an unknown street, the same address, a missing statement)
// stays on the form with its sentence, and the form keeps what was typed.
func (f *Flow) FileRequest(ctx context.Context, d RequestDraft) error {
	done, err := f.begin(StepRequests)
	if err != nil {
		return err
	}
	defer done()
	h, ev, channel, p := f.requests()
	if p != nil {
		return f.fail(p)
	}
	defer wipeEvidence(ev)
	f.mu.Lock()
	cf := ""
	if f.v.Person != nil {
		cf = f.v.Person.CF
	}
	f.mu.Unlock()
	form, p := d.form(cf)
	if p != nil {
		return f.fail(p)
	}
	key, err := newKey(f.deps.Rand)
	if err != nil {
		return f.fail(problem("requests_unavailable", err.Error(), err))
	}
	hctx, cancel := f.ctx(ctx)
	defer cancel()
	// A copy: the hub connection may keep the filing past the wipe of ev.
	who := *ev
	rec, err := h.FileRequest(hctx, api.RequestFiling{Kind: string(d.Kind), Channel: channel, Requester: &who, Form: form, IdempotencyKey: key})
	f.noteHub(err)
	if err != nil {
		return f.fail(recordsProblem("requests", err))
	}
	f.update(func(v *View) { v.Step, v.Filed, v.Problem = StepRequestFiled, rec, nil })
	return nil
}
