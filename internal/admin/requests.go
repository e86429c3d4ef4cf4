package admin

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/request/desk"
)

// The registry office's review of demographic requests (issue 17): a
// queue per kind with its deadlines (a move's registration within two
// working days and its silence-assent after 45), one page per request
// with its form, its documents and its whole history, and the steps
// (assign, ask for more, accept, refuse) the desk carries out. Each step
// sends the version of the request the page showed, so two clerks
// deciding the same request at once cannot both succeed.
//
// A request names persons: like the persons page, its page and its
// documents are read only with a purpose, written to the access log
// first. The queues show protocol numbers and kinds, no names.

func (c *Console) requestRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/requests", c.require(staff.ReviewRequests, c.requestQueue))
	mux.Handle("GET /admin/requests/{id}", c.require(staff.ReviewRequests, c.requestPage))
	mux.Handle("GET /admin/requests/{id}/files/{sum}", c.require(staff.ReviewRequests, c.requestFile))
	mux.Handle("POST /admin/requests/{id}/{action}", c.require(staff.ReviewRequests, c.requestStep))
}

type requestRow struct {
	request.Request
	// Days are the whole days left before the silence-assent (negative:
	// past it); Silent says the deadline has passed.
	Days, RegisterDays int
	Deadline, Silent   bool
	RegisterLate       bool
}

type requestQueueData struct {
	Kinds  []queueKind
	Kind   string
	Status string
	Rows   []requestRow
}

type queueKind struct {
	Kind        string
	Title       string
	Open, Total int
	Current     bool
}

func daysLeft(now, until time.Time) int {
	d := until.Sub(now)
	if d < 0 {
		return -int((-d).Hours()/24) - 1
	}
	return int(d.Hours() / 24)
}

func (c *Console) rowOf(rec request.Request) requestRow {
	row := requestRow{Request: rec}
	if !rec.SilenceAssent.IsZero() && rec.Status.Open() {
		now := c.now()
		row.Deadline = true
		row.Days, row.RegisterDays = daysLeft(now, desk.SilenceDue(rec, now)), daysLeft(now, rec.RegisterBy)
		row.Silent = desk.Silent(rec, now)
		row.RegisterLate = now.After(rec.RegisterBy)
	}
	return row
}

func (c *Console) requestQueue(w http.ResponseWriter, r *http.Request) {
	v := c.newView(r, "nav.requests")
	if c.Requests == nil {
		c.fail(w, r, refused(fault.Unavailable, "requests_off"))
		return
	}
	q := r.URL.Query()
	d := &requestQueueData{Kind: q.Get("kind"), Status: q.Get("status")}
	if d.Status == "" {
		d.Status = "open"
	}
	v.Data = d
	all, err := c.Requests.Queue(r.Context(), "")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, k := range request.Kinds() {
		qk := queueKind{Kind: string(k), Title: kindTitle(v.Lang, k), Current: d.Kind == string(k)}
		for _, rec := range all {
			if rec.Kind == k {
				qk.Total++
				if rec.Status.Open() {
					qk.Open++
				}
			}
		}
		d.Kinds = append(d.Kinds, qk)
	}
	for _, rec := range all {
		if d.Kind != "" && string(rec.Kind) != d.Kind {
			continue
		}
		if d.Status == "open" && !rec.Status.Open() || d.Status != "open" && d.Status != "all" && string(rec.Status) != d.Status {
			continue
		}
		d.Rows = append(d.Rows, c.rowOf(rec))
	}
	c.render(w, r, http.StatusOK, "requests", v)
}

type requestPageData struct {
	Purpose string
	Rec     request.Request
	Row     requestRow
	// Form is the form's fields as label and value, in order.
	Form []formField
	// Files are every document filed with it, with the step that added it.
	Files []requestFile
	Open  bool
	// Historical offers, on the accept form of a historical certificate
	// request, the choice between the certificate composed from the
	// registry (with the exemptions of ANPR table 39) and the document the
	// office prepared from its archive.
	Historical bool
	Exemptions []fees.Reason
}

type formField struct{ Label, Value string }

type requestFile struct {
	request.Attachment
	Step string
}

// loadRequest reads request id and, with a purpose, records the read of
// its persons' data in the access log.
func (c *Console) loadRequest(w http.ResponseWriter, r *http.Request, purpose, what string) (*requestPageData, bool) {
	if c.Requests == nil {
		c.fail(w, r, refused(fault.Unavailable, "requests_off"))
		return nil, false
	}
	rec, err := c.Requests.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return nil, false
	}
	d := &requestPageData{Purpose: purpose, Rec: rec, Row: c.rowOf(rec), Open: rec.Status.Open()}
	if rec.Kind == request.Historical && d.Open {
		d.Historical = true
		for _, e := range fees.Reasons() {
			// Code 99 (altro motivo) needs the law written out; the
			// office's historical certificates claim the listed ones.
			if e.Code != 99 {
				d.Exemptions = append(d.Exemptions, e)
			}
		}
	}
	if purpose == "" {
		return d, true
	}
	actor := audit.Actor{Kind: audit.Staff, ID: userOf(r)}
	var es []audit.Entry
	for _, cf := range rec.Persons {
		es = append(es, audit.Entry{Time: c.now(), Actor: actor, Purpose: purpose, Subject: cf, Data: what + " " + rec.Protocol, Channel: "admin", Request: rec.ID})
	}
	if err := c.reads().RecordAll(r.Context(), es); err != nil {
		c.fail(w, r, err)
		return nil, false
	}
	d.Form = formFields(langOf(r), rec.Form, registry.DateOf(c.now().In(operators.Rome)))
	for _, a := range rec.Attachments {
		d.Files = append(d.Files, requestFile{Attachment: a, Step: request.ActionFiled})
	}
	for _, e := range rec.History {
		for _, a := range e.Attachments {
			d.Files = append(d.Files, requestFile{Attachment: a, Step: e.Action})
		}
	}
	return d, true
}

// formFields lists a form's fields for the page in the console's
// language (places named as they are called today): dates as the registry prints them, places and relationships by
// name rather than code, so the clerk reads what was declared.
func formFields(lang string, f request.Form, today registry.Date) []formField {
	var out []formField
	add := func(key, value string) {
		if strings.TrimSpace(value) != "" {
			out = append(out, formField{tr(lang, "req.f."+key), value})
		}
	}
	yes := func(b bool) string {
		if b {
			return tr(lang, "req.yes")
		}
		return tr(lang, "req.no")
	}
	addr := func(a request.NewAddress) string {
		s := a.Street + " " + a.Number
		if a.Internal != "" {
			s += ", " + a.Internal
		}
		return s
	}
	names := placeNamer{places.Default()}
	day := func(s string) string {
		if d, err := registry.ParseDate(s); err == nil {
			return d.Italian()
		}
		return s
	}
	// coded is the catalogue's word for a form's coded value, the value
	// itself when the catalogue has none (a form filed by a newer kiosk).
	coded := func(prefix, v string) string {
		if knownKey(lang, prefix+v) {
			return tr(lang, prefix+v)
		}
		return v
	}
	switch {
	case f.Address != nil:
		add("moving", strings.Join(f.Address.Persons, ", "))
		add("address", addr(f.Address.NewAddress))
		add("statement", yes(f.Address.Statement))
	case f.Residence != nil:
		origin := coded("req.f.origin.", f.Residence.Origin)
		add("origin", origin+": "+names.name(f.Residence.OriginPlace, today)+" ("+f.Residence.OriginPlace+")")
		for i, m := range f.Residence.Persons {
			birth, _ := registry.ParseDate(m.BirthDate)
			rel := tr(lang, "req.f.rel.none")
			if r := registry.Relationship(m.Relationship); m.Relationship != 0 && r.Valid() {
				rel = r.Italian(registry.Sex(strings.ToUpper(m.Sex + " ")[0]))
			} else if m.Relationship != 0 {
				rel = fmt.Sprint(m.Relationship)
			}
			add("person", fmt.Sprintf(tr(lang, "req.f.mover"), i+1, m.Surname, m.GivenNames, m.CF, m.Sex,
				day(m.BirthDate), names.name(m.BirthPlace, birth), names.name(m.Citizenship, today), rel))
		}
		add("address", addr(f.Residence.NewAddress))
		add("statement", yes(f.Residence.Statement))
	case f.Cohabit != nil:
		add("action", coded("req.f.cohabit.", f.Cohabit.Action))
		add("partners", f.Cohabit.Partners[0]+", "+f.Cohabit.Partners[1])
		add("both", yes(f.Cohabit.Statement))
	case f.Historical != nil:
		add("subject", f.Historical.SubjectCF)
		add("certificate", coded("req.f.what.", f.Historical.What))
		add("date", day(f.Historical.Date))
		add("use", f.Historical.Purpose)
	case f.DAT != nil:
		add("docdate", day(f.DAT.DocumentDate))
		add("trustee", strings.TrimSpace(f.DAT.TrusteeName+" "+f.DAT.TrusteeCF))
		add("statement", yes(f.DAT.Statement))
	case f.Correction != nil:
		add("subject", f.Correction.SubjectCF)
		add("field", coded("req.f.field.", f.Correction.Field))
		add("correct", f.Correction.Correct)
		add("reason", f.Correction.Reason)
	}
	return out
}

// kindTitle is a kind's name in the console's language.
func kindTitle(lang string, k request.Kind) string {
	if knownKey(lang, "req.kind."+string(k)) {
		return tr(lang, "req.kind."+string(k))
	}
	return k.Title()
}

func (c *Console) requestPage(w http.ResponseWriter, r *http.Request) {
	purpose := strings.TrimSpace(r.URL.Query().Get("purpose"))
	v := c.newView(r, "req.title")
	if purpose != "" && !purposeOK(purpose) {
		d, ok := c.loadRequest(w, r, "", "")
		if !ok {
			return
		}
		v.Data = d
		c.renderRefused(w, r, "request", v, refused(fault.Invalid, "purpose_required"))
		return
	}
	d, ok := c.loadRequest(w, r, purpose, "pratica anagrafica")
	if !ok {
		return
	}
	v.Data = d
	if f := r.URL.Query().Get("done"); f != "" {
		v.Flash = tr(v.Lang, "req.done."+f)
	}
	c.render(w, r, http.StatusOK, "request", v)
}

func (c *Console) requestFile(w http.ResponseWriter, r *http.Request) {
	purpose := strings.TrimSpace(r.URL.Query().Get("purpose"))
	if !purposeOK(purpose) {
		c.fail(w, r, refused(fault.Invalid, "purpose_required"))
		return
	}
	d, ok := c.loadRequest(w, r, purpose, "documento allegato alla pratica")
	if !ok {
		return
	}
	a, data, err := c.Requests.Attachment(r.Context(), d.Rec.ID, r.PathValue("sum"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", a.MediaType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", a.Name))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

func (c *Console) requestStep(w http.ResponseWriter, r *http.Request) {
	if c.Requests == nil {
		c.fail(w, r, refused(fault.Unavailable, "requests_off"))
		return
	}
	id, action := r.PathValue("id"), r.PathValue("action")
	purpose := strings.TrimSpace(r.PostFormValue("purpose"))
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	text := r.PostFormValue("text")
	by := desk.Staff{User: userOf(r)}
	var err error
	switch action {
	case "assign":
		to := strings.TrimSpace(r.PostFormValue("to"))
		if to == "" {
			to = userOf(r)
		}
		_, err = c.Requests.Assign(r.Context(), id, version, by, to)
	case "ask":
		_, err = c.Requests.Ask(r.Context(), id, version, by, text)
	case "accept":
		var dl desk.Delivery
		if dl, err = delivery(r); err == nil {
			_, err = c.Requests.AcceptWith(r.Context(), id, version, by, text, dl)
		}
	case "refuse":
		_, err = c.Requests.Refuse(r.Context(), id, version, by, text)
	default:
		c.fail(w, r, refused(fault.NotFound, "not_found"))
		return
	}
	if err != nil {
		// The page again, with the refusal and what the request is now.
		v := c.newView(r, "req.title")
		if !purposeOK(purpose) {
			purpose = ""
		}
		d, ok := c.loadRequest(w, r, purpose, "pratica anagrafica")
		if !ok {
			return
		}
		v.Data = d
		if errors.Is(err, request.ErrStale) || errors.Is(err, request.ErrTransition) {
			c.log().Info("admin: request step refused", "id", id, "action", action, "err", err)
		}
		c.renderRefused(w, r, "request", v, err)
		return
	}
	u := "/admin/requests/" + url.PathEscape(id) + "?done=" + action
	if purpose != "" {
		u += "&purpose=" + url.QueryEscape(purpose)
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// delivery is what the accept form of a historical certificate request
// sends: the exemption claimed for the certificate composed from the
// registry, or the office's prepared PDF (the desk checks its type and
// size).
func delivery(r *http.Request) (desk.Delivery, error) {
	var dl desk.Delivery
	if code := strings.TrimSpace(r.PostFormValue("exemption")); code != "" {
		n, err := strconv.Atoi(code)
		if err != nil {
			return dl, fault.New(fault.Invalid, fees.ReasonUnknownExemption, fmt.Sprintf("%q is not an exemption code", code))
		}
		dl.Exemption = fees.Exemption{Code: n}
	}
	if r.PostFormValue("outcome") != "document" {
		return dl, nil
	}
	f, h, err := r.FormFile("document")
	if err != nil {
		return dl, request.Refuse(request.ReasonAttachmentRequired, "Alleghi il certificato storico preparato dall'ufficio (PDF).")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, request.MaxAttachmentBytes+1))
	if err != nil {
		return dl, err
	}
	dl.Document = &request.File{Name: h.Filename, Data: data}
	return dl, nil
}

func init() {
	for k, m := range requestMessages {
		messages[k] = m
	}
	reasonSentences["requests_off"] = [2]string{"Questo hub non riceve pratiche anagrafiche.", "This hub takes no registry requests."}
}

var requestMessages = map[string][2]string{
	"nav.requests":              {"Pratiche", "Requests"},
	"req.title":                 {"Pratica anagrafica", "Registry request"},
	"req.queues":                {"Code per tipo di pratica", "Queues by kind of request"},
	"req.all":                   {"Tutte", "All"},
	"req.open":                  {"aperte", "open"},
	"req.total":                 {"in tutto", "in all"},
	"req.status.open":           {"Aperte", "Open"},
	"req.status.all":            {"Tutte", "All"},
	"req.caption":               {"Pratiche, la più vecchia per prima", "Requests, oldest first"},
	"req.protocol":              {"Protocollo", "Protocol"},
	"req.kind":                  {"Tipo", "Kind"},
	"req.filed":                 {"Presentata", "Filed"},
	"req.status":                {"Stato", "Status"},
	"req.assigned":              {"Assegnata a", "Assigned to"},
	"req.deadline":              {"Scadenze", "Deadlines"},
	"req.none":                  {"Nessuna pratica in questa coda.", "No request in this queue."},
	"req.registerby":            {"Registrazione entro", "Register by"},
	"req.silence":               {"Silenzio-assenso il", "Silence-assent on"},
	"req.daysleft":              {"giorni al silenzio-assenso", "days to silence-assent"},
	"req.silent":                {"Silenzio-assenso maturato: la dichiarazione è accolta per legge, va registrata.", "Silence-assent reached: the declaration is accepted by law and must be registered."},
	"req.late":                  {"registrazione in ritardo", "registration late"},
	"req.requester":             {"Richiedente", "Requester"},
	"req.persons":               {"Persone interessate", "Persons concerned"},
	"req.channel":               {"Canale", "Channel"},
	"req.hash":                  {"SHA-256 di quanto presentato", "SHA-256 of what was filed"},
	"req.form":                  {"Modulo", "Form"},
	"req.outcome":               {"Esito", "Outcome"},
	"req.outcome.compose":       {"Rilascia il certificato dai dati dell'anagrafe", "Issue the certificate from the registry's data"},
	"req.outcome.document":      {"Allega il certificato preparato dall'ufficio (archivio cartaceo, PDF)", "Attach the certificate the office prepared (paper archive, PDF)"},
	"req.outcome.exemption":     {"Esenzione dal bollo", "Stamp duty exemption"},
	"req.outcome.noexemption":   {"nessuna: diritti e bollo ordinari", "none: the usual fees and stamp duty"},
	"req.outcome.certificate":   {"Certificato rilasciato", "Certificate issued"},
	"req.outcome.prepared":      {"Certificato preparato dall'ufficio", "Certificate prepared by the office"},
	"req.files":                 {"Documenti", "Documents"},
	"req.nofiles":               {"Nessun documento allegato.", "No document attached."},
	"req.history":               {"Storia della pratica", "History of the request"},
	"req.question":              {"Richiesta di integrazione", "Question to the citizen"},
	"req.decision":              {"Decisione", "Decision"},
	"req.assign":                {"Assegna a me", "Assign to me"},
	"req.ask":                   {"Chiedi un'integrazione", "Ask for more information"},
	"req.accept":                {"Accogli", "Accept"},
	"req.refuse":                {"Respingi", "Refuse"},
	"req.text":                  {"Motivazione o testo per il cittadino", "Reasons or text for the citizen"},
	"req.texthelp":              {"Il cittadino riceve questo testo con la notifica del cambio di stato.", "The citizen receives this text with the status notification."},
	"req.accepthelp":            {"Accogliendo, la variazione anagrafica è registrata subito, con la storia della scheda.", "Accepting records the registry change at once, keeping the record's history."},
	"req.purposehelp":           {"Il motivo della consultazione resta nel registro degli accessi.", "The purpose of the read stays in the access log."},
	"req.done.assign":           {"Pratica assegnata.", "Request assigned."},
	"req.done.ask":              {"Richiesta di integrazione inviata al cittadino.", "Question sent to the citizen."},
	"req.done.accept":           {"Pratica accolta e variazione registrata.", "Request accepted and the change recorded."},
	"req.done.refuse":           {"Pratica respinta.", "Request refused."},
	"req.action.filed":          {"presentata", "filed"},
	"req.action.assigned":       {"assegnata", "assigned"},
	"req.action.asked":          {"integrazione chiesta", "more asked"},
	"req.action.answered":       {"integrazione ricevuta", "answered"},
	"req.action.accepted":       {"accolta", "accepted"},
	"req.action.silence_assent": {"accolta per silenzio-assenso", "accepted by the office's silence"},
	"req.action.refused":        {"respinta", "refused"},
	"req.state.filed":           {"in esame", "being examined"},
	"req.state.more_info":       {"in attesa di integrazione", "waiting for the citizen"},
	"req.state.accepted":        {"accolta", "accepted"},
	"req.state.refused":         {"respinta", "refused"},

	"req.kind.cambio_indirizzo":    {"Cambio di indirizzo nel Comune", "Change of address within the comune"},
	"req.kind.cambio_residenza":    {"Dichiarazione di residenza (da altro Comune o dall'estero)", "Declaration of residence (from another comune or from abroad)"},
	"req.kind.convivenza_di_fatto": {"Convivenza di fatto", "Convivenza di fatto (de facto cohabitation)"},
	"req.kind.certificato_storico": {"Richiesta di certificato storico", "Request of a historical certificate"},
	"req.kind.dat":                 {"Consegna DAT (disposizioni anticipate di trattamento)", "Receipt of a DAT (advance healthcare directives)"},
	"req.kind.rettifica_dati":      {"Rettifica di dati anagrafici", "Correction of registry data"},

	"req.yes":                      {"sì", "yes"},
	"req.no":                       {"no", "no"},
	"req.f.moving":                 {"Persone che cambiano indirizzo", "Persons changing address"},
	"req.f.address":                {"Nuovo indirizzo", "New address"},
	"req.f.statement":              {"Dichiarazione di responsabilità", "Statement of truth (art. 76 DPR 445/2000)"},
	"req.f.origin":                 {"Provenienza", "Coming from"},
	"req.f.origin.comune":          {"altro Comune", "another comune"},
	"req.f.origin.estero":          {"estero", "abroad"},
	"req.f.person":                 {"Persona che si trasferisce", "Person moving in"},
	"req.f.mover":                  {"%d. %s %s · %s · sesso %s · nato/a il %s a %s · cittadinanza %s · relazione: %s", "%d. %s %s · %s · sex %s · born %s in %s · citizenship %s · relationship: %s"},
	"req.f.rel.none":               {"non indicata", "not given"},
	"req.f.action":                 {"Azione", "Action"},
	"req.f.cohabit.costituzione":   {"costituzione", "registration"},
	"req.f.cohabit.cessazione":     {"cessazione", "end"},
	"req.f.partners":               {"Conviventi", "Partners"},
	"req.f.both":                   {"Dichiarazione di entrambi", "Statement of both partners"},
	"req.f.subject":                {"Persona", "Person"},
	"req.f.certificate":            {"Certificato", "Certificate"},
	"req.f.what.residenza":         {"residenza storica", "residence history"},
	"req.f.what.stato_di_famiglia": {"stato di famiglia storico", "family as it was on a date"},
	"req.f.date":                   {"Data", "Date"},
	"req.f.use":                    {"Uso", "Purpose"},
	"req.f.docdate":                {"Data del documento", "Date of the document"},
	"req.f.trustee":                {"Fiduciario", "Trustee (fiduciario)"},
	"req.f.field":                  {"Dato da correggere", "Datum to correct"},
	"req.f.field.surname":          {"cognome", "surname"},
	"req.f.field.given_names":      {"nome", "given names"},
	"req.f.field.birth_date":       {"data di nascita", "date of birth"},
	"req.f.field.birth_place":      {"luogo di nascita", "place of birth"},
	"req.f.field.sex":              {"sesso", "sex"},
	"req.f.field.email":            {"indirizzo e-mail", "e-mail address"},
	"req.f.correct":                {"Valore corretto", "Correct value"},
	"req.f.reason":                 {"Motivo", "Reason"},
	"req.channel.counter":          {"sportello di un esercente", "a shop's counter"},
	"req.channel.self_service":     {"postazione self-service", "self-service kiosk"},
	"req.channel.office":           {"ufficio anagrafe", "registry office"},
}
