package desk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/identify"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
)

// Get returns request id.
func (d *Desk) Get(ctx context.Context, id string) (rec request.Request, err error) {
	err = d.Stores.View(ctx, func(tx store.Tx) (err error) { rec, err = tx.Requests().Get(id); return err })
	return rec, err
}

// Queue returns the requests of kind (empty: every kind) with one of
// statuses (none: all), oldest filed first.
func (d *Desk) Queue(ctx context.Context, kind request.Kind, statuses ...request.Status) (rs []request.Request, err error) {
	err = d.Stores.View(ctx, func(tx store.Tx) (err error) {
		rs, err = tx.Requests().List(request.Filter{Kind: kind, Statuses: statuses})
		return err
	})
	return rs, err
}

// Attachment returns the bytes of an attachment of request id.
func (d *Desk) Attachment(ctx context.Context, id, sum string) (a request.Attachment, data []byte, err error) {
	err = d.Stores.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Requests().Get(id)
		if err != nil {
			return err
		}
		all := rec.Attachments
		for _, e := range rec.History {
			all = append(all, e.Attachments...)
		}
		for _, x := range all {
			if strings.EqualFold(x.SHA256, sum) {
				a = x
				data, err = tx.Requests().Attachment(x.SHA256)
				return err
			}
		}
		return fmt.Errorf("%w: request %s has no attachment %s", request.ErrNotFound, id, sum)
	})
	return a, data, err
}

// Staff is who acts in the console.
type Staff struct {
	User string // the staff member's user name
}

func (s Staff) actor() audit.Actor { return audit.Actor{Kind: audit.Staff, ID: s.User} }

// MaxNote bounds a question or a decision's reasons.
const MaxNote = 2000

func note(text string) (string, error) {
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) < 5 {
		return "", request.Refuse(request.ReasonDecisionMissing, "Scriva la motivazione (almeno 5 caratteri).")
	}
	if utf8.RuneCountInString(text) > MaxNote {
		return "", request.Refuse(request.ReasonFieldInvalid, "La motivazione supera %d caratteri.", MaxNote)
	}
	return text, nil
}

// step runs one staff step on request id at version (the version the
// staff member's page showed: a request changed meanwhile is ErrStale),
// in one transaction: change edits the request (and the registry), and
// the history, the audit entries and the requester's notice follow.
func (d *Desk) step(ctx context.Context, id string, version int, by audit.Actor, channel, action, purpose string, notify bool,
	change func(tx store.Tx, rec *request.Request, now time.Time) error) (request.Request, error) {
	now := d.now()
	var rec request.Request
	err := d.Stores.Update(ctx, func(tx store.Tx) error {
		var err error
		if rec, err = tx.Requests().Get(id); err != nil {
			return err
		}
		if version != 0 && rec.Version != version {
			return fmt.Errorf("%w: request %s is at version %d, the page showed %d", request.ErrStale, id, rec.Version, version)
		}
		if err := change(tx, &rec, now); err != nil {
			return err
		}
		if err := tx.Requests().Put(&rec); err != nil {
			return err
		}
		if err := d.audit(tx, rec, by, audit.Clerk{}, channel, now, purpose); err != nil {
			return err
		}
		if notify {
			return d.remind(tx, rec, strconv.Itoa(len(rec.History)-1), now)
		}
		return nil
	})
	if err == nil && d.Log != nil {
		d.Log.Info("request "+action, "id", rec.ID, "protocol", rec.Protocol, "by", by.String(), "status", rec.Status)
	}
	return rec, err
}

func open(rec *request.Request, what string) error {
	if !rec.Status.Open() {
		return fmt.Errorf("%w: request %s is %s and cannot be %s", request.ErrTransition, rec.ID, rec.Status, what)
	}
	return nil
}

// Assign gives request id to staff member to (empty: back to the queue).
func (d *Desk) Assign(ctx context.Context, id string, version int, by Staff, to string) (request.Request, error) {
	to = strings.TrimSpace(to)
	return d.step(ctx, id, version, by.actor(), "admin", "assigned", "assegnazione pratica anagrafica", false, func(_ store.Tx, rec *request.Request, now time.Time) error {
		if err := open(rec, "assigned"); err != nil {
			return err
		}
		rec.AssignedTo = to
		n := "assegnata a " + to
		if to == "" {
			n = "rimessa in coda"
		}
		rec.History = append(rec.History, request.Event{Time: now, Actor: by.actor().String(), Action: request.ActionAssigned, Note: n})
		return nil
	})
}

// Ask asks the citizen for more information: the request waits for the
// answer, and the requester is notified with the question.
func (d *Desk) Ask(ctx context.Context, id string, version int, by Staff, question string) (request.Request, error) {
	q, err := note(question)
	if err != nil {
		return request.Request{}, err
	}
	return d.step(ctx, id, version, by.actor(), "admin", "asked", "richiesta di integrazione della pratica anagrafica", true, func(_ store.Tx, rec *request.Request, now time.Time) error {
		if rec.Status != request.Filed {
			return fmt.Errorf("%w: request %s is %s; more information is asked of a request being examined", request.ErrTransition, rec.ID, rec.Status)
		}
		rec.Status, rec.Question = request.MoreInfo, q
		rec.History = append(rec.History, request.Event{Time: now, Actor: by.actor().String(), Action: request.ActionAsked, Note: q})
		return nil
	})
}

// Answer is the citizen's answer to the office's question, filed at a
// kiosk or counter: the answering person is identified as at filing and
// must be one the request concerns; the answer's documents are kept with
// it, and the request is examined again.
type Answer struct {
	Text        string
	Files       []request.File
	Channel     certificate.Channel
	Evidence    identify.Evidence
	RequesterCF string // at the office
	OperatorID  string
	Actor       audit.Actor
	Clerk       audit.Clerk
}

// Answer records a's answer to request id.
func (d *Desk) Answer(ctx context.Context, id string, a Answer) (request.Request, error) {
	text := strings.TrimSpace(a.Text)
	if text == "" && len(a.Files) == 0 {
		return request.Request{}, request.Refuse(request.ReasonFieldMissing, "Scriva la risposta o alleghi un documento.")
	}
	if utf8.RuneCountInString(text) > MaxNote {
		return request.Request{}, request.Refuse(request.ReasonFieldInvalid, "La risposta supera %d caratteri.", MaxNote)
	}
	rec, err := d.Get(ctx, id)
	if err != nil {
		return rec, err
	}
	var atts []request.Attachment
	if len(a.Files) > 0 {
		// Answers have no minimum: only the limits and the types.
		if atts, err = request.CheckAttachments(request.Historical, a.Files); err != nil {
			return request.Request{}, err
		}
	}
	now := d.now()
	var who certificate.Requester
	err = d.Stores.View(ctx, func(tx store.Tx) (err error) {
		who, err = d.requester(tx.Registry(), Filing{Channel: a.Channel, Evidence: a.Evidence, RequesterCF: a.RequesterCF}, now)
		return err
	})
	if err != nil {
		return request.Request{}, err
	}
	if !rec.Concerns(who.CF) {
		return request.Request{}, request.Refuse(request.ReasonNotYours, "La pratica %s non riguarda la persona identificata.", rec.Protocol)
	}
	return d.step(ctx, id, 0, a.Actor, string(a.Channel), "answered", "integrazione della pratica anagrafica da parte del cittadino", true, func(tx store.Tx, rec *request.Request, now time.Time) error {
		if rec.Status != request.MoreInfo {
			return fmt.Errorf("%w: the office asked nothing of request %s", request.ErrTransition, rec.ID)
		}
		for _, f := range a.Files {
			if _, err := tx.Requests().PutAttachment(f.Data); err != nil {
				return err
			}
		}
		rec.Status = request.Filed
		rec.History = append(rec.History, request.Event{Time: now, Actor: a.Actor.String(), Action: request.ActionAnswered,
			Note: strings.TrimSpace(text + " — " + who.CF), Attachments: atts})
		return nil
	})
}

// Refuse refuses request id with reasons; a residence or address change's
// open-procedure mark is lifted.
func (d *Desk) Refuse(ctx context.Context, id string, version int, by Staff, reasons string) (request.Request, error) {
	why, err := note(reasons)
	if err != nil {
		return request.Request{}, err
	}
	return d.step(ctx, id, version, by.actor(), "admin", "refused", "decisione sulla pratica anagrafica: respinta", true, func(tx store.Tx, rec *request.Request, now time.Time) error {
		if err := open(rec, "refused"); err != nil {
			return err
		}
		if err := d.unmark(tx, rec); err != nil {
			return err
		}
		rec.Status, rec.Decision, rec.Decided, rec.Question = request.Refused, why, now, ""
		rec.History = append(rec.History, request.Event{Time: now, Actor: by.actor().String(), Action: request.ActionRefused, Note: why})
		return nil
	})
}

// Accept accepts request id and applies its registry change in the same
// transaction (apply.go), keeping the registry's history. A historical
// certificate request is accepted with AcceptWith.
func (d *Desk) Accept(ctx context.Context, id string, version int, by Staff, reasons string) (request.Request, error) {
	return d.AcceptWith(ctx, id, version, by, reasons, Delivery{})
}

// Delivery is what the clerk gives with the acceptance of a historical
// certificate request (ignored for the other kinds).
type Delivery struct {
	// Document is the certificate the office prepared from its paper
	// archive, for records from before computerisation that the registry
	// does not hold: a PDF, kept as the request's outcome. Without it the
	// certificate is composed from the registry and issued.
	Document *request.File
	// Exemption is the bollo (and diritti) exemption the request claims
	// under the law it names (fees.Exemption); zero pays the usual fees.
	Exemption fees.Exemption
}

// AcceptWith accepts request id like Accept and, for a historical
// certificate request, delivers the certificate: the office's prepared
// PDF (dl.Document) becomes the request's outcome, or else the
// certificate is issued from the registry through the hub's issuance path
// (sealed, numbered in the register, verifiable) and linked to the
// request. A certificate the registry cannot compose (a date before its
// records, a subject it no longer holds) refuses the acceptance with the
// certificate's reason code and leaves the request open, so the clerk can
// attach the prepared document instead.
func (d *Desk) AcceptWith(ctx context.Context, id string, version int, by Staff, reasons string, dl Delivery) (request.Request, error) {
	why := strings.TrimSpace(reasons)
	if utf8.RuneCountInString(why) > MaxNote {
		return request.Request{}, request.Refuse(request.ReasonFieldInvalid, "La motivazione supera %d caratteri.", MaxNote)
	}
	settings, err := d.Issuance.Settings()
	if err != nil {
		return request.Request{}, err
	}
	var outcome *request.Outcome
	if current, err := d.Get(ctx, id); err != nil {
		return request.Request{}, err
	} else if current.Kind == request.Historical {
		if err := open(&current, "accepted"); err != nil {
			return request.Request{}, err
		}
		if version != 0 && current.Version != version {
			return request.Request{}, fmt.Errorf("%w: request %s is at version %d, the page showed %d", request.ErrStale, id, current.Version, version)
		}
		if outcome, err = d.deliver(ctx, current, by, dl); err != nil {
			return request.Request{}, err
		}
	} else if dl.Document != nil {
		return request.Request{}, request.Refuse(request.ReasonContradictory, "Solo la richiesta di certificato storico si accoglie allegando il certificato preparato.")
	}
	return d.step(ctx, id, version, by.actor(), "admin", "accepted", "decisione sulla pratica anagrafica: accolta", true, func(tx store.Tx, rec *request.Request, now time.Time) error {
		if err := open(rec, "accepted"); err != nil {
			return err
		}
		if rec.Status == request.MoreInfo {
			return fmt.Errorf("%w: request %s waits for the citizen's answer", request.ErrTransition, rec.ID)
		}
		if err := d.apply(tx, rec, settings.Issuer.Belfiore, now); err != nil {
			return err
		}
		if why == "" {
			why = "accolta"
		}
		note := why
		var atts []request.Attachment
		if outcome != nil {
			if outcome.Document != nil {
				// The document is kept in the transaction that accepts:
				// never a kept document without its acceptance.
				if _, err := tx.Requests().PutAttachment(dl.Document.Data); err != nil {
					return err
				}
				atts = []request.Attachment{*outcome.Document}
				note += " — certificato storico preparato dall'ufficio"
			} else {
				note += " — certificato storico rilasciato, prot. " + outcome.CertificateProtocol
			}
		}
		rec.Status, rec.Decision, rec.Decided, rec.Outcome = request.Accepted, why, now, outcome
		rec.History = append(rec.History, request.Event{Time: now, Actor: by.actor().String(), Action: request.ActionAccepted, Note: note, Attachments: atts})
		return nil
	})
}

// deliver prepares the outcome of historical certificate request rec.
//
// The certificate is issued before the acceptance's transaction, not in
// it: issuance reserves its protocol number and seals the PDF in its own
// commit (issuance.Service.Issue), which cannot join another transaction.
// Its idempotency key is the request's, so an acceptance that fails after
// issuing (a stale page, a crash) and is tried again links the same
// certificate instead of issuing a second one.
func (d *Desk) deliver(ctx context.Context, rec request.Request, by Staff, dl Delivery) (*request.Outcome, error) {
	if dl.Document != nil {
		atts, err := request.CheckAttachments(request.Historical, []request.File{*dl.Document})
		if err != nil {
			return nil, err
		}
		if atts[0].MediaType != request.PDF {
			return nil, request.Refuse(request.ReasonAttachmentType, "Il certificato storico preparato dall'ufficio si allega come file PDF.")
		}
		return &request.Outcome{Document: &atts[0]}, nil
	}
	f := rec.Form.Historical
	if f == nil {
		return nil, fmt.Errorf("%w: request %s has no historical certificate form", request.ErrInvalid, rec.ID)
	}
	t, at := certificate.ResidenzaStorica, today(d.now())
	if f.What == "stato_di_famiglia" {
		t = certificate.StatoDiFamigliaStorico
		var err error
		if at, err = registry.ParseDate(f.Date); err != nil {
			return nil, request.Refuse(request.ReasonFieldInvalid, "La data dello stato di famiglia storico %q non è nella forma AAAA-MM-GG.", f.Date)
		}
	}
	res, err := d.Issuance.Issue(ctx, issuance.Request{
		SubjectCF: f.SubjectCF, Types: []string{string(t)}, At: at, Exemption: dl.Exemption,
		Channel: certificate.Office, RequesterCF: rec.RequesterCF, Actor: by.actor(),
		IdempotencyKey: "request-outcome:" + rec.ID,
	})
	if err != nil {
		return nil, err
	}
	return &request.Outcome{CertificateID: res.Record.ID, CertificateProtocol: res.Record.Protocol}, nil
}

// unmark lifts the open-procedure mark a filing set.
func (d *Desk) unmark(tx store.Tx, rec *request.Request) error {
	if rec.Kind != request.AddressChange && rec.Kind != request.ResidenceChange {
		return nil
	}
	for _, cf := range rec.Persons {
		p, err := tx.Registry().PersonByCF(cf)
		if errors.Is(err, registry.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if p.ProcedureOpen.IsZero() {
			continue
		}
		p.ProcedureOpen = registry.Date{}
		if err := tx.Registry().PutPerson(p); err != nil {
			return err
		}
	}
	return nil
}

// Suspension is the longest the silence-assent term stops while the
// office waits for the citizen's answer: once, for no more than 30 days
// (art. 2 c. 7 L. 241/1990).
const Suspension = 30 * 24 * time.Hour

// SilenceDue is when an open residence or address change is accepted by
// the office's silence, at now: its SilenceAssent moved on by the time the
// first question waited for its answer (still waiting: until now), at most
// Suspension. Zero for the kinds that have no such term.
func SilenceDue(rec request.Request, now time.Time) time.Time {
	if rec.SilenceAssent.IsZero() {
		return time.Time{}
	}
	var asked, answered time.Time
	for _, e := range rec.History {
		switch {
		case e.Action == request.ActionAsked && asked.IsZero():
			asked = e.Time
		case e.Action == request.ActionAnswered && !asked.IsZero() && answered.IsZero():
			answered = e.Time
		}
	}
	if asked.IsZero() {
		return rec.SilenceAssent
	}
	if answered.IsZero() {
		answered = now
	}
	return rec.SilenceAssent.Add(min(max(answered.Sub(asked), 0), Suspension))
}

// Silent reports whether an open residence or address change has passed
// its silence-assent day (SilenceDue) at now: accepted by law (art. 20 L.
// 241/1990; DL 5/2012 art. 5), what AssentBySilence records.
func Silent(rec request.Request, now time.Time) bool {
	return rec.Status.Open() && !rec.SilenceAssent.IsZero() && now.After(SilenceDue(rec, now))
}

// today is the day of t in Rome.
func today(t time.Time) registry.Date { return registry.DateOf(t.In(protocol.Rome)) }
