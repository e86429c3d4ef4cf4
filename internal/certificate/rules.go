package certificate

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/registry"
)

// Refusal is why a certificate is not issued: a machine reason code and one
// sentence for the person at the counter. Nothing is charged and no
// protocol number is used for a refused request.
type Refusal struct {
	Reason  string
	Message string
	Err     error // underlying cause, if any (registry.ErrNotFound …)
}

func (r *Refusal) Error() string { return r.Message }
func (r *Refusal) Unwrap() error { return r.Err }

func refuse(reason, format string, args ...any) *Refusal {
	return &Refusal{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// AsRefusal returns the *Refusal in err's chain, if any.
func AsRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

// Reason codes of Refusal.
const (
	ReasonUnknownType         = "unknown_type"
	ReasonNoType              = "no_type"
	ReasonIncompatibleTypes   = "incompatible_types"
	ReasonOperatorNotAllowed  = "operator_not_allowed"  // outside the operator's agreement
	ReasonRequesterNotAllowed = "requester_not_allowed" // this requester, on this channel, may not have it
	ReasonRequesterUnknown    = "requester_unidentified"
	ReasonSubjectNotFound     = "subject_not_found"
	ReasonSubjectAmbiguous    = "subject_ambiguous"
	ReasonSubjectDeceased     = "subject_deceased"
	ReasonSubjectCancelled    = "subject_cancelled" // no longer in the registry of residents nor in AIRE
	ReasonPartlyCertifiable   = "partly_certifiable"
	// ReasonOpenProcedure: an administrative procedure on the subject is
	// open (registry.Person.ProcedureOpen).
	ReasonOpenProcedure   = "open_procedure"
	ReasonNotResident     = "not_resident"
	ReasonNotAIRE         = "not_aire"
	ReasonNotFree         = "not_free"
	ReasonNoMarriage      = "no_marriage"
	ReasonNoCivilUnion    = "no_civil_union"
	ReasonNoCohabitation  = "no_cohabitation_contract"
	ReasonNotInConvivenza = "not_in_convivenza"
	ReasonInConvivenza    = "in_convivenza"
	ReasonNoFamily        = "no_family"
	ReasonSingleMember    = "single_member_family"
	ReasonNotItalian      = "not_italian"
	// ReasonSeveralCitizenships: cittadinanza is not certified for a
	// person holding more than one citizenship (ANPR, controlli certificato
	// di cittadinanza, "Controlli specifici").
	ReasonSeveralCitizenships = "several_citizenships"
	// ReasonCitizenshipUndetermined: the citizenship is being determined
	// (ANPR code 997) or cannot be attributed (998), or the registry holds
	// none at all; cittadinanza is not certified, even when forced.
	ReasonCitizenshipUndetermined = "citizenship_undetermined"
	// ReasonForceNotAllowed: only the registry officer at the office may
	// force a certificate (ANPR's forzaCertificazione).
	ReasonForceNotAllowed = "force_not_allowed"
	ReasonNoCivilStatus   = "no_civil_status"
	ReasonBornAbroadAIRE  = "born_abroad_aire"
	// ReasonEventDuringAIRE: the marriage, civil union or contratto di
	// convivenza happened while the person was registered in AIRE, so the
	// comune's registry is not where it is certified.
	ReasonEventDuringAIRE = "event_during_aire"
	ReasonInvalidChannel  = "invalid_channel"
	// ReasonInvalidCF: a codice fiscale in the request is not well formed
	// (length, alphabet, date, check character); no look-up can find it.
	ReasonInvalidCF = "invalid_cf"
	// ReasonRequesterEvidenceRequired: a counter or self-service request
	// names no evidence of who asks.
	ReasonRequesterEvidenceRequired = "requester_evidence_required"
	// ReasonIdentificationFailed: the evidence does not identify a living
	// person of the registry. One answer whatever the cause (unknown NIS,
	// expired or someone else's document, a chip that fails, a stale tap),
	// which only the hub's log and audit entry record.
	ReasonIdentificationFailed = "identification_failed"
	// ReasonNotRequesterHousehold: the subject is neither the requester
	// nor in the requester's famiglia anagrafica. One answer whether the
	// subject exists, is dead, is in AIRE or does not exist at all.
	ReasonNotRequesterHousehold = "not_requester_household"
	// ReasonNotDeceased: a death certificate asked about a living person.
	ReasonNotDeceased = "not_deceased"
	// ReasonDateRequired: a historical type (residenza storica, stato di
	// famiglia storico) asked without the date it is to describe.
	ReasonDateRequired = "date_required"
	// ReasonDateNotAllowed: a date given with a type that certifies the
	// present only.
	ReasonDateNotAllowed = "date_not_allowed"
	// ReasonDateInFuture: a historical date after today.
	ReasonDateInFuture = "date_in_future"
	// ReasonDateBeforeRecords: a historical date before the first day of
	// the history the registry keeps for the subject.
	ReasonDateBeforeRecords = "date_before_records"
	// ReasonDateAfterDeath: a historical date after the subject's death.
	ReasonDateAfterDeath = "date_after_death"
	// ReasonNoFamilyOnDate: the subject belonged to no famiglia anagrafica
	// on the historical date.
	ReasonNoFamilyOnDate = "no_family_on_date"
)

// The one sentence of each refusal about who asks, identical for every
// cause, so a refusal never tells a requester what the registry holds.
const (
	MessageIdentificationFailed  = "the requester could not be identified: check the identity document or the CIE and try again."
	MessageNotRequesterHousehold = "a certificate is issued only about the requester or a member of the requester's own famiglia anagrafica."
)

// IdentificationFailed is the refusal of a failed identification; cause is
// kept as Err for the log and the audit entry, never shown.
func IdentificationFailed(cause error) *Refusal {
	return &Refusal{Reason: ReasonIdentificationFailed, Message: MessageIdentificationFailed, Err: cause}
}

// RequesterKind is ANPR's tipoRichiedente.
type RequesterKind uint8

const (
	RequesterOther   RequesterKind = 1 // another person
	RequesterSubject RequesterKind = 2 // the subject
	RequesterPA      RequesterKind = 3 // a public administration
)

func (k RequesterKind) String() string {
	switch k {
	case RequesterOther:
		return "altra persona"
	case RequesterSubject:
		return "intestatario"
	case RequesterPA:
		return "pubblica amministrazione"
	}
	return fmt.Sprintf("richiedente %d", k)
}

// Requester is who asks for the certificate.
type Requester struct {
	CF string
	// Person is the requester's own registry record when there is one:
	// it lets the rules see the requester's family and age.
	Person *registry.Person
	// Administration names a requesting public administration and the
	// reference of its request (ANPR's estremi della richiesta); set only
	// for a PA.
	Administration string
	// Household is the requester's own famiglia anagrafica, the requester
	// included (LoadHousehold): whom they may have certificates about on
	// a counter or self-service. Empty for a requester living in a
	// convivenza or in no family: then only themself.
	Household []*registry.Person
	// Famiglie are the requester's periods in famiglie anagrafiche (not
	// convivenze), from their history (LoadHousehold): they say whether
	// a deceased subject was in the requester's famiglia when they died.
	Famiglie []registry.Membership
}

// LoadHousehold fills q.Household from the registry: the members of the
// requester's family when it is a famiglia anagrafica, not a convivenza
// (DM Interno 3 November 2021 art. 2 names the famiglia only), else the
// requester alone.
func LoadHousehold(r registry.Reader, q *Requester) error {
	p := q.Person
	if p == nil {
		return nil
	}
	q.Famiglie = nil
	for _, m := range p.Memberships {
		f, err := r.Family(m.Family)
		if errors.Is(err, registry.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if f.Kind == registry.Famiglia {
			q.Famiglie = append(q.Famiglie, m)
		}
	}
	q.Household = []*registry.Person{p}
	if p.Family == 0 {
		return nil
	}
	f, err := r.Family(p.Family)
	if errors.Is(err, registry.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if f.Kind != registry.Famiglia {
		return nil
	}
	members, err := r.Members(p.Family)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.ID != p.ID {
			q.Household = append(q.Household, m)
		}
	}
	return nil
}

// CheckHousehold decides, before anything about the subject is looked at,
// whether the requester may have certificates about subject at all (nil
// when the registry has no such person). At a counter and at self-service
// only about themself or a member of their own famiglia anagrafica (DM
// Interno 3 November 2021 art. 2; circolare Interno 115/2022; the Polis
// model, DL 50/2022 art. 38); the registry office is exempt (art. 33 DPR
// 223/1989), and so is a counter whose agreement names a legal basis that
// widens it (req.Widening). Every refusal is the same one, whatever the
// subject is or whether it exists.
func CheckHousehold(req Request, subject *registry.Person) error {
	switch req.Channel {
	case Office:
		return nil
	case Counter:
		if strings.TrimSpace(req.Widening) != "" {
			return nil
		}
	case SelfService:
	default:
		return refuse(ReasonInvalidChannel, "%q is not a channel; it must be counter, self_service or office.", req.Channel)
	}
	if InHousehold(req.Requester, subject) {
		return nil
	}
	return &Refusal{Reason: ReasonNotRequesterHousehold, Message: MessageNotRequesterHousehold}
}

// InHousehold reports whether subject is the requester or a member of the
// requester's own famiglia anagrafica; a deceased subject counts when they
// died a member of a famiglia the requester belonged to on that day
// (DiedInFamiglia).
func InHousehold(q Requester, subject *registry.Person) bool {
	if subject == nil {
		return false
	}
	for _, m := range q.Household {
		if m.ID == subject.ID {
			return true
		}
	}
	return DiedInFamiglia(q, subject)
}

// DiedInFamiglia reports whether subject died a member of a famiglia
// anagrafica the requester belonged to on the day of the death.
//
// A death ends the person's membership (DPR 223/1989 art. 11: the dead are
// cancelled from the anagrafe), so the current famiglia of the survivors no
// longer lists them, yet the widow or the son who lived with them is the
// family DM Interno 3 November 2021 art. 2 means, and the one who needs the
// death certificate. Only the registry's own history decides it: the
// deceased's membership on the day of death and the requester's
// membership of the same famiglia on that day (Person.Memberships). Civil
// status certificates are public at the office (art. 450 codice civile);
// this is the counter's and the kiosk's narrower rule.
func DiedInFamiglia(q Requester, subject *registry.Person) bool {
	if subject == nil || subject.Alive() || q.Person == nil {
		return false
	}
	died, ok := subject.MembershipOn(subject.DeathDate)
	if !ok {
		return false
	}
	for _, m := range q.Famiglie {
		if m.Family == died.Family && m.Covers(subject.DeathDate) {
			return true
		}
	}
	return false
}

// KindFor classifies the requester with respect to subject.
func (q Requester) KindFor(subject *registry.Person) RequesterKind {
	switch {
	case strings.TrimSpace(q.Administration) != "":
		return RequesterPA
	case q.Person != nil && subject != nil && q.Person.ID == subject.ID,
		subject != nil && q.CF != "" && strings.EqualFold(q.CF, subject.CF):
		return RequesterSubject
	}
	return RequesterOther
}

// Channel is where the request is made.
type Channel string

const (
	// Counter is an operator's shop: the requester, identified by CIE or
	// by an identity document the hub checks, may ask about themself and
	// their own famiglia anagrafica (DM Interno 3 November 2021 art. 2),
	// or more only where the agreement names a legal basis (Widening).
	Counter Channel = "counter"
	// SelfService is a kiosk or online, the requester identified by CIE:
	// only for oneself or one's own famiglia anagrafica.
	SelfService Channel = "self_service"
	// Office is the comune's registry office, which also serves public
	// administrations.
	Office Channel = "office"
)

// Request is what the rules decide on.
type Request struct {
	Types     []Type
	Requester Requester
	Channel   Channel
	// Allowed is the set of types the operator's agreement covers; nil
	// means every type (the registry office).
	Allowed map[Type]bool
	Now     time.Time // for ages; in Rome
	// Widening is the legal basis an operator's agreement names to issue
	// at its counter about persons outside the requester's household;
	// empty (the default) keeps the household rule (CheckHousehold).
	Widening string
	// Force is ANPR's forzaCertificazione: the registry officer, at the
	// office, takes responsibility for issuing despite the conditions
	// ANPR lets be forced (italia/anpr src/controllo-certificati/, each
	// CERTIFICATO_*.rst): a partly certifiable record, an open
	// administrative procedure, and for cittadinanza a subject who is not
	// an Italian citizen. Other conditions (death, cancellation, several
	// citizenships, citizenship undetermined) are never forced. Refused on
	// any channel but Office: a shop or a kiosk has no officer to decide.
	Force bool
	// At is the date a historical type describes (Type.Historical); zero
	// for every other type.
	At registry.Date

	// undated is set by Eligible only: a historical type is judged
	// without its date, which the requester gives later and Check
	// judges then.
	undated bool
}

// SubjectData is what the rules and Compose read about the subject, taken
// from one registry snapshot (see Load).
type SubjectData struct {
	Person  *registry.Person
	Family  *registry.Family   // nil when the person belongs to none
	Members []*registry.Person // the family's members, head first
	Events  []*registry.Event  // the person's events, oldest first
	// Others are the other parties of the person's events (spouse, civil
	// partner, cohabitant), by ID.
	Others map[registry.PersonID]*registry.Person
	// Past is the famiglia the person belonged to on a historical date,
	// as LoadPast found it; nil when not loaded or when there was none.
	Past *PastFamily
}

// PastFamily is a family as it was on a date: the members whose membership
// covered it, each with the relationship they had then.
type PastFamily struct {
	At      registry.Date
	Family  *registry.Family
	Members []PastMember // head first, then by relationship and birth
}

// PastMember is one member of a PastFamily.
type PastMember struct {
	Person       *registry.Person
	Relationship registry.Relationship
}

// LoadPast fills d.Past with the family d's person belonged to on day at,
// read from the registry's membership history (Reader.FamilyHistory). It
// leaves Past nil when the history shows no family on that day; the rules
// refuse then.
func LoadPast(r registry.Reader, d *SubjectData, at registry.Date) error {
	d.Past = nil
	m, ok := d.Person.MembershipOn(at)
	if !ok {
		return nil
	}
	f, err := r.Family(m.Family)
	if errors.Is(err, registry.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	all, err := r.FamilyHistory(m.Family)
	if err != nil {
		return err
	}
	past := &PastFamily{At: at, Family: f}
	for _, o := range all {
		if om, ok := o.MembershipOn(at); ok && om.Family == m.Family {
			past.Members = append(past.Members, PastMember{o, om.Relationship})
		}
	}
	// Head first, then by relationship code and birth; an adopted child
	// sorts as a child, so the order does not tell what the page must not
	// (adoption is never certified: certifiedRelationship).
	rank := func(r registry.Relationship) registry.Relationship {
		if r == registry.Adopted {
			return registry.Child
		}
		return r
	}
	sort.SliceStable(past.Members, func(i, j int) bool {
		a, b := past.Members[i], past.Members[j]
		if (a.Relationship == registry.Head) != (b.Relationship == registry.Head) {
			return a.Relationship == registry.Head
		}
		if ra, rb := rank(a.Relationship), rank(b.Relationship); ra != rb {
			return ra < rb
		}
		return a.Person.BirthDate.Before(b.Person.BirthDate)
	})
	d.Past = past
	return nil
}

// Load reads the subject with codice fiscale cf and everything the rules
// need. A subject not in the registry is a *Refusal.
func Load(r registry.Reader, cf string) (*SubjectData, error) {
	p, err := r.PersonByCF(cf)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return nil, &Refusal{ReasonSubjectNotFound, fmt.Sprintf("no person with codice fiscale %s is in the registry.", cf), err}
	case errors.Is(err, registry.ErrAmbiguous):
		return nil, &Refusal{ReasonSubjectAmbiguous, fmt.Sprintf("codice fiscale %s matches several persons through omocodia; give the exact code.", cf), err}
	case err != nil:
		return nil, err
	}
	d := &SubjectData{Person: p, Others: map[registry.PersonID]*registry.Person{}}
	if p.Family != 0 {
		if d.Family, err = r.Family(p.Family); err != nil && !errors.Is(err, registry.ErrNotFound) {
			return nil, err
		}
		if d.Family != nil {
			if d.Members, err = r.Members(p.Family); err != nil {
				return nil, err
			}
		}
	}
	if d.Events, err = r.EventsOf(p.ID); err != nil {
		return nil, err
	}
	for _, ev := range d.Events {
		for _, id := range ev.Persons {
			if id == p.ID || d.Others[id] != nil {
				continue
			}
			o, err := r.Person(id)
			if errors.Is(err, registry.ErrNotFound) {
				continue // rules refuse when a needed party is missing
			} else if err != nil {
				return nil, err
			}
			d.Others[id] = o
		}
	}
	return d, nil
}

// lastEvent returns the subject's most recent event of kind k.
func (d *SubjectData) lastEvent(k registry.EventKind) *registry.Event {
	for i := len(d.Events) - 1; i >= 0; i-- {
		if d.Events[i].Kind == k {
			return d.Events[i]
		}
	}
	return nil
}

// otherParty returns the other person of a two-party event, if known.
func (d *SubjectData) otherParty(ev *registry.Event) *registry.Person {
	if ev == nil {
		return nil
	}
	for _, id := range ev.Persons {
		if id != d.Person.ID {
			if o := d.Others[id]; o != nil {
				return o
			}
		}
	}
	return nil
}

func (d *SubjectData) head() *registry.Person {
	for _, m := range d.Members {
		if m.Relationship == registry.Head {
			return m
		}
	}
	return nil
}

func (d *SubjectData) inFamily(p *registry.Person) bool {
	if p == nil || d.Family == nil {
		return false
	}
	for _, m := range d.Members {
		if m.ID == p.ID {
			return true
		}
	}
	return false
}

// Check decides whether the request may be granted. It returns the types in
// the order the document lists them (ANPR code order), or a *Refusal.
// Requester and channel are checked before anything about the subject, so a
// refusal never tells a stranger what the registry holds.
func Check(d *SubjectData, req Request) ([]Type, error) {
	types, err := checkTypes(req.Types)
	if err != nil {
		return nil, err
	}
	if req.Force && req.Channel != Office {
		return nil, refuse(ReasonForceNotAllowed, "only the registry officer at the office may force a certificate (ANPR's forzaCertificazione); a request from a %s cannot.", channelName(req.Channel))
	}
	if !req.undated {
		if err := CheckDate(types, req.At, req.Now); err != nil {
			return nil, err
		}
	}
	for _, t := range types {
		if req.Allowed != nil && !req.Allowed[t] {
			return nil, refuse(ReasonOperatorNotAllowed, "the operator's agreement with the comune does not cover the certificate %s.", strings.ToLower(specByType[t].Subject))
		}
	}
	if d == nil || d.Person == nil {
		return nil, refuse(ReasonSubjectNotFound, "the subject of the certificate is not in the registry.")
	}
	if err := checkRequester(d, req, types); err != nil {
		return nil, err
	}
	if err := checkSubject(d, types, req.Force, req.At); err != nil {
		return nil, err
	}
	return types, nil
}

// CheckCombination refuses types that cannot go on one certificate
// (ReasonIncompatibleTypes, ReasonNoType, ReasonUnknownType) by the rules
// Check applies first, with nothing about the subject: a kiosk uses it to
// keep an incompatible combination from being ticked at all.
func CheckCombination(types []Type) error {
	_, err := checkTypes(types)
	return err
}

func checkTypes(in []Type) ([]Type, error) {
	if len(in) == 0 {
		return nil, refuse(ReasonNoType, "no certificate type was requested.")
	}
	seen := map[Type]bool{}
	for _, t := range in {
		if !t.Valid() {
			return nil, refuse(ReasonUnknownType, "%q is not a certificate type; the types are %s.", string(t), typeList())
		}
		if seen[t] {
			return nil, refuse(ReasonIncompatibleTypes, "the type %s is requested twice.", t)
		}
		seen[t] = true
	}
	types := canonical(in)
	if len(types) > 1 {
		for _, t := range types {
			if standalone[t] {
				return nil, refuse(ReasonIncompatibleTypes, "%s is issued on a certificate of its own; ask for the other types separately.", t)
			}
		}
	}
	var familyType Type
	var aireType, residentType Type
	for _, t := range types {
		s := specByType[t]
		if s.family {
			if familyType != "" {
				return nil, refuse(ReasonIncompatibleTypes, "%s and %s both describe the household; one certificate can carry only one of them.", familyType, t)
			}
			familyType = t
		}
		switch s.scope {
		case aire:
			aireType = t
		case residents:
			residentType = t
		}
	}
	if aireType != "" && residentType != "" {
		return nil, refuse(ReasonIncompatibleTypes, "%s is for citizens living abroad and %s for residents; they cannot be combined.", aireType, residentType)
	}
	// ANPR's rules for cumulative certificates: stato civile goes with a
	// household table only as the combined type 13, and stato libero
	// cannot stand beside a marriage or a civil status certificate.
	pairs := [][2]Type{
		{StatoCivile, StatoDiFamiglia}, {StatoCivile, StatoDiFamigliaConParentela},
		{StatoCivile, ResidenzaInConvivenza}, {StatoCivile, StatoDiFamigliaEStatoCivile},
		{StatoLibero, Matrimonio}, {StatoLibero, StatoCivile}, {StatoLibero, UnioneCivile},
		{Matrimonio, UnioneCivile},
	}
	for _, p := range pairs {
		if seen[p[0]] && seen[p[1]] {
			hint := ""
			if p[1] == StatoDiFamiglia {
				hint = fmt.Sprintf(" (ask for %s instead)", StatoDiFamigliaEStatoCivile)
			}
			return nil, refuse(ReasonIncompatibleTypes, "%s cannot be combined with %s in one certificate%s.", p[0], p[1], hint)
		}
	}
	return types, nil
}

// CheckDate checks the historical date at against the request alone,
// before anything about the subject, so a kiosk can check it too: a date
// is required by a historical type, refused with any other, and never after
// today in Rome (now).
func CheckDate(types []Type, at registry.Date, now time.Time) error {
	for _, t := range types {
		switch {
		case t.Historical() && at.IsZero():
			return refuse(ReasonDateRequired, "the certificate %s describes a past date: give the date (YYYY-MM-DD) it is to describe.", t)
		case !t.Historical() && !at.IsZero():
			return refuse(ReasonDateNotAllowed, "the certificate %s describes the present; a date is given only for residenza_storica and stato_di_famiglia_storico.", t)
		}
	}
	if !at.IsZero() && !now.IsZero() {
		if today := registry.DateOf(now.In(rome)); today.Before(at) {
			return refuse(ReasonDateInFuture, "the date %s is in the future; a historical certificate describes a day up to today (%s).", at.Italian(), today.Italian())
		}
	}
	return nil
}

func checkRequester(d *SubjectData, req Request, types []Type) error {
	q := req.Requester
	kind := q.KindFor(d.Person)
	switch req.Channel {
	case Office:
		if kind == RequesterPA {
			return nil
		}
	case Counter, SelfService:
		if kind == RequesterPA {
			return refuse(ReasonRequesterNotAllowed, "a public administration requests certificates from the registry office, not at a %s.", channelName(req.Channel))
		}
	default:
		return refuse(ReasonInvalidChannel, "%q is not a channel; it must be counter, self_service or office.", req.Channel)
	}
	if strings.TrimSpace(q.CF) == "" && q.Person == nil {
		return refuse(ReasonRequesterUnknown, "the requester must be identified with a codice fiscale before a certificate is issued.")
	}
	if req.Channel == SelfService && kind != RequesterSubject {
		// Online and at kiosks only oneself or one's own famiglia
		// anagrafica (not a convivenza): anyone else goes to a counter.
		if (d.Family == nil || d.Family.Kind != registry.Famiglia || !d.inFamily(q.Person)) && !DiedInFamiglia(q, d.Person) {
			return refuse(ReasonRequesterNotAllowed, "self-service certificates are only for yourself or members of your own family; for anyone else ask at a counter.")
		}
	}
	for _, t := range types {
		switch t {
		case ContrattoDiConvivenza:
			// ANPR issues it only to one of the two cohabitants.
			if kind != RequesterSubject && !isParty(d, d.lastEvent(registry.CohabitationPact), q) {
				return refuse(ReasonRequesterNotAllowed, "a certificate of contratto di convivenza is issued only to one of the two cohabitants.")
			}
		case StatoDiFamigliaConParentela, StatoDiFamigliaEStatoCivile:
			// ANPR: not to a minor outside the family.
			if q.Person != nil && kind != RequesterSubject && !d.inFamily(q.Person) &&
				q.Person.BirthDate.AgeAt(registry.DateOf(req.Now.In(rome))) < 18 {
				return refuse(ReasonRequesterNotAllowed, "a minor may not obtain the family certificate %s of another family.", t)
			}
		}
	}
	return nil
}

func isParty(d *SubjectData, ev *registry.Event, q Requester) bool {
	if ev == nil {
		return false
	}
	for _, id := range ev.Persons {
		if q.Person != nil && q.Person.ID == id {
			return true
		}
		if o := d.Others[id]; o != nil && q.CF != "" && strings.EqualFold(o.CF, q.CF) {
			return true
		}
	}
	return false
}

func channelName(c Channel) string {
	if c == SelfService {
		return "kiosk or online"
	}
	return "shop counter"
}

func checkSubject(d *SubjectData, types []Type, force bool, at registry.Date) error {
	p := d.Person
	name := p.FullName()
	// The death certificate, and the history up to the death, are
	// issued about the deceased (afterDeath); nothing else is.
	past := true
	for _, t := range types {
		past = past && afterDeath[t]
	}
	if !p.Alive() && !past {
		return refuse(ReasonSubjectDeceased, "%s is recorded as deceased on %s; certificates about living persons cannot be issued.", name, p.DeathDate.Italian())
	}
	_, resident := p.CurrentResidence()
	if p.Alive() && !p.AIRE && !resident && !past {
		return refuse(ReasonSubjectCancelled, "%s is no longer registered as resident nor in AIRE, so the registry cannot certify them.", name)
	}
	// ANPR's controls for every certificate, "Procedimento
	// amministrativo": not issued "se procedimento aperto" (italia/anpr
	// src/controllo-certificati/, each CERTIFICATO_*.rst). Checked here,
	// with the other subject facts, after the requester and household
	// checks, so only someone entitled to the subject learns of it.
	if !p.ProcedureOpen.IsZero() && !force {
		return refuse(ReasonOpenProcedure, "an administrative procedure on %s has been open since %s, and no certificate is issued until it is closed.", name, p.ProcedureOpen.Italian())
	}
	if p.PartlyCertifiable && !force {
		// ANPR's controls refuse a partly certifiable record for every
		// certificate that lists "Soggetto parzialmente certificabile"
		// among its subject checks; residenza in convivenza does not list
		// it (italia/anpr src/controllo-certificati/
		// CERTIFICATO_residenza_in_convivenza.rst), so it is issued.
		for _, t := range types {
			if t != Residenza && t != StatoDiFamiglia && t != ResidenzaInConvivenza {
				return refuse(ReasonPartlyCertifiable, "the registry record of %s is only partly certifiable, which allows residenza, residenza in convivenza and stato di famiglia certificates only.", name)
			}
		}
	}
	for _, t := range types {
		if err := checkType(d, t, force, at); err != nil {
			return err
		}
	}
	return nil
}

func checkType(d *SubjectData, t Type, force bool, at registry.Date) error {
	p := d.Person
	name := p.FullName()
	switch specByType[t].scope {
	case residents:
		if p.AIRE {
			return refuse(ReasonNotResident, "%s lives abroad (AIRE), so the certificate %s, which is for residents, cannot be issued; AIRE certificates can.", name, t)
		}
	case aire:
		if !p.AIRE {
			return refuse(ReasonNotAIRE, "%s is not registered in AIRE, so the certificate %s cannot be issued.", name, t)
		}
		if res, ok := p.CurrentResidence(); !ok || res.AIREComune == "" {
			return refuse(ReasonNotAIRE, "%s has no current address abroad in AIRE, so the certificate %s cannot be issued.", name, t)
		}
	}
	switch t {
	case Nascita:
		if p.AIRE && strings.HasPrefix(p.BirthPlace, "Z") {
			return refuse(ReasonBornAbroadAIRE, "%s was born abroad and lives abroad (AIRE); the birth is certified by the comune that transcribed the act.", name)
		}
	case Matrimonio:
		switch p.CivilStatus {
		case registry.Married, registry.Widowed, registry.Divorced:
		default:
			return refuse(ReasonNoMarriage, "%s is %s, so there is no marriage to certify.", name, p.CivilStatus.Italian(p.Sex))
		}
		ev := d.lastEvent(registry.Marriage)
		if ev == nil || d.otherParty(ev) == nil {
			return refuse(ReasonNoMarriage, "the registry holds no marriage record with the spouse for %s.", name)
		}
		// ANPR, controlli certificato anagrafico di matrimonio, controlli
		// specifici: not issued "se il soggetto era iscritto all'AIRE già
		// alla data del matrimonio" (italia/anpr src/controllo-certificati/
		// CERTIFICATO_anagrafico_matrimonio.rst).
		if inAIREOn(p, ev.Date) {
			return refuse(ReasonEventDuringAIRE, "%s married on %s while registered in AIRE, so the marriage is not certified by this registry.", name, ev.Date.Italian())
		}
	case UnioneCivile:
		if p.CivilStatus != registry.CivilUnion {
			return refuse(ReasonNoCivilUnion, "%s is %s, not in a civil union.", name, p.CivilStatus.Italian(p.Sex))
		}
		ev := d.lastEvent(registry.CivilUnionFormed)
		if ev == nil || d.otherParty(ev) == nil {
			return refuse(ReasonNoCivilUnion, "the registry holds no civil union record with the partner for %s.", name)
		}
		// ANPR's page for the unione civile certificate lists no AIRE
		// control; issue 14 asks for the matrimonio rule above on civil
		// unions too (L. 76/2016 art. 1 c. 20 extends to the union the
		// rules on marriage), so the same date test applies.
		if inAIREOn(p, ev.Date) {
			return refuse(ReasonEventDuringAIRE, "%s entered the civil union on %s while registered in AIRE, so the union is not certified by this registry.", name, ev.Date.Italian())
		}
	case ContrattoDiConvivenza:
		ev := d.lastEvent(registry.CohabitationPact)
		if ev == nil || d.otherParty(ev) == nil {
			return refuse(ReasonNoCohabitation, "the registry holds no contratto di convivenza for %s.", name)
		}
		// ANPR, controlli certificato di contratto di convivenza,
		// controlli specifici: not issued "se il soggetto è iscritto
		// all'AIRE e il contratto di convivenza è registrato
		// successivamente all'espatrio" (italia/anpr src/controllo-
		// certificati/CERTIFICATO_contratto_di_convivenza.rst): the
		// current AIRE period only, unlike marriage.
		if res, ok := p.CurrentResidence(); ok && p.AIRE && res.AIREComune != "" && !ev.Date.Before(res.From) {
			return refuse(ReasonEventDuringAIRE, "the contratto di convivenza of %s was registered on %s, after the move abroad (AIRE), so it is not certified by this registry.", name, ev.Date.Italian())
		}
	case Cittadinanza:
		// ANPR, "Controlli applicati alla produzione di certificati",
		// certificato di cittadinanza, controlli specifici (italia/anpr
		// src/controllo-certificati/CERTIFICATO_cittadinanza.rst), in its
		// order: not issued "se la cittadinanza risulta in definizione o
		// non attribuibile (codice cittadinanza = 997 o 998)", "se il
		// soggetto è in possesso di più cittadinanze", "se i dati della
		// cittadinanza sono integralmente assenti", and "se il soggetto
		// non è cittadino italiano; questa condizione può essere forzata
		// con il campo forzaCertificazione" — the one a forced request
		// passes, so a stateless person (999, apolide) or a foreigner gets
		// a certificate saying so only when the officer forces it.
		for _, c := range p.Citizenships {
			if c == registry.CitizenshipPending || c == registry.CitizenshipUnassignable {
				return refuse(ReasonCitizenshipUndetermined, "the citizenship of %s is still being determined or cannot be attributed (ANPR code %s), so it cannot be certified.", name, c)
			}
		}
		if distinct(p.Citizenships) > 1 {
			return refuse(ReasonSeveralCitizenships, "%s holds more than one citizenship, for which ANPR issues no certificate of cittadinanza.", name)
		}
		if len(p.Citizenships) == 0 {
			return refuse(ReasonCitizenshipUndetermined, "the registry holds no citizenship for %s, so none can be certified.", name)
		}
		if !p.Italian() && !force {
			return refuse(ReasonNotItalian, "%s is not recorded as an Italian citizen, so Italian citizenship cannot be certified.", name)
		}
	case StatoCivile:
		if !p.CivilStatus.Valid() || p.CivilStatus == registry.CivilStatusUnknown {
			return refuse(ReasonNoCivilStatus, "the civil status of %s is not documented in the registry.", name)
		}
	case StatoLibero:
		if !p.CivilStatus.Free() {
			return refuse(ReasonNotFree, "%s is %s, so a certificate of stato libero cannot be issued.", name, p.CivilStatus.Italian(p.Sex))
		}
	case ResidenzaInConvivenza:
		if d.Family == nil || d.Family.Kind != registry.Convivenza {
			return refuse(ReasonNotInConvivenza, "%s does not live in a convivenza anagrafica (a community such as a care home or a religious house).", name)
		}
	case Morte:
		if p.Alive() {
			return refuse(ReasonNotDeceased, "%s is not recorded as deceased, so there is no death to certify.", name)
		}
	case ResidenzaStorica:
		if at.IsZero() {
			return checkUndated(p, t, firstResidence(p))
		}
		return checkHistory(p, t, at, firstResidence(p))
	case StatoDiFamigliaStorico:
		if at.IsZero() {
			return checkUndated(p, t, firstMembership(p))
		}
		if err := checkHistory(p, t, at, firstMembership(p)); err != nil {
			return err
		}
		past := d.Past
		if past == nil || past.At != at || len(past.Members) == 0 {
			return refuse(ReasonNoFamilyOnDate, "on %s %s belonged to no famiglia anagrafica in this registry.", at.Italian(), name)
		}
		if past.Family.Kind == registry.Convivenza {
			return refuse(ReasonInConvivenza, "on %s %s lived in a convivenza anagrafica, not in a famiglia; the registry office certifies it.", past.At.Italian(), name)
		}
	case StatoDiFamiglia, StatoDiFamigliaEStatoCivile, StatoDiFamigliaConParentela, StatoDiFamigliaAIRE:
		if d.Family == nil || len(d.Members) == 0 {
			return refuse(ReasonNoFamily, "%s belongs to no famiglia anagrafica in the registry.", name)
		}
		if d.Family.Kind == registry.Convivenza {
			return refuse(ReasonInConvivenza, "%s lives in a convivenza anagrafica; ask for %s instead.", name, ResidenzaInConvivenza)
		}
		if d.head() == nil {
			return refuse(ReasonNoFamily, "the family of %s has no intestatario scheda in the registry, so it cannot be certified.", name)
		}
		if (t == StatoDiFamigliaConParentela || t == StatoDiFamigliaEStatoCivile) && len(d.Members) < 2 {
			return refuse(ReasonSingleMember, "%s lives alone, so there are no family relationships to certify; ask for %s.", name, StatoDiFamiglia)
		}
	}
	return nil
}

// checkUndated judges a historical type before its date is given (only
// Eligible asks, since Check refuses a historical type without a date
// first): it refuses only when the registry keeps no history of the kind
// at all, so no date could be certified.
func checkUndated(p *registry.Person, t Type, first registry.Date) error {
	if first.IsZero() {
		return refuse(ReasonDateBeforeRecords, "the registry keeps no history of %s for the certificate %s.", p.FullName(), t)
	}
	return nil
}

// checkHistory refuses a historical date before first, the first day of the
// history the registry keeps for the type (zero: it keeps none), or after
// the subject's death, when there is nothing more to describe.
func checkHistory(p *registry.Person, t Type, at, first registry.Date) error {
	if first.IsZero() || at.Before(first) || at.Before(p.BirthDate) {
		since := "holds no such history"
		if !first.IsZero() {
			since = "starts on " + first.Italian()
		}
		return refuse(ReasonDateBeforeRecords, "the date %s is before the registry's records of %s for the certificate %s: its history %s.", at.Italian(), p.FullName(), t, since)
	}
	if !p.Alive() && p.DeathDate.Before(at) {
		return refuse(ReasonDateAfterDeath, "the date %s is after the death of %s on %s; give a date up to the death.", at.Italian(), p.FullName(), p.DeathDate.Italian())
	}
	return nil
}

func firstResidence(p *registry.Person) registry.Date {
	if len(p.Residences) == 0 {
		return registry.Date{}
	}
	return p.Residences[0].From
}

func firstMembership(p *registry.Person) registry.Date {
	if len(p.Memberships) == 0 {
		return registry.Date{}
	}
	return p.Memberships[0].From
}

// distinct counts the different codes in cs, so a citizenship recorded twice
// is one citizenship.
func distinct(cs []string) int {
	seen := map[string]bool{}
	for _, c := range cs {
		seen[c] = true
	}
	return len(seen)
}

// inAIREOn reports whether one of p's AIRE residence periods (those with
// an AIRE comune of registration) covers day. The registry dates AIRE by
// these periods only; a person flagged AIRE with no dated AIRE period
// cannot be placed in time, so no event counts as during AIRE for them.
func inAIREOn(p *registry.Person, day registry.Date) bool {
	if day.IsZero() {
		return false
	}
	for _, r := range p.Residences {
		if r.AIREComune == "" || day.Before(r.From) {
			continue
		}
		if r.To.IsZero() || !r.To.Before(day) {
			return true
		}
	}
	return false
}
