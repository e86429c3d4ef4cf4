package request

import (
	"errors"
	"slices"
	"strings"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/registry"
)

// Form is the typed form of a request: exactly the section of its kind is
// set.
type Form struct {
	Address    *AddressForm    `json:"address_change,omitempty"`
	Residence  *ResidenceForm  `json:"residence_change,omitempty"`
	Cohabit    *CohabitForm    `json:"cohabitation,omitempty"`
	Historical *HistoricalForm `json:"historical,omitempty"`
	DAT        *DATForm        `json:"dat,omitempty"`
	Correction *CorrectionForm `json:"correction,omitempty"`
}

// sections is how many sections are set, and the kind of the last.
func (f Form) sections() (int, Kind) {
	n, k := 0, Kind("")
	for _, s := range []struct {
		set  bool
		kind Kind
	}{{f.Address != nil, AddressChange}, {f.Residence != nil, ResidenceChange}, {f.Cohabit != nil, Cohabitation},
		{f.Historical != nil, Historical}, {f.DAT != nil, DAT}, {f.Correction != nil, Correction}} {
		if s.set {
			n, k = n+1, s.kind
		}
	}
	return n, k
}

// NewAddress is a dwelling in the comune, as a form gives it: the street
// as the city's street list names it, the civic number, the flat.
type NewAddress struct {
	Street   string `json:"street"`
	Number   string `json:"number"`
	Internal string `json:"internal,omitempty"`
}

// AddressForm moves persons of one famiglia to another dwelling in the
// comune (DPR 223/1989 art. 13 c. 1 lett. b). The declaration is made by
// an adult member for everyone moving (art. 6: each adult may declare for
// the famiglia's members).
type AddressForm struct {
	// Persons are the codici fiscali of those moving, all of the
	// declarant's famiglia anagrafica.
	Persons    []string   `json:"persons"`
	NewAddress NewAddress `json:"new_address"`
	// Statement is the declarant's statement that what is declared is
	// true, aware of the penalties of art. 76 DPR 445/2000.
	Statement bool `json:"statement"`
}

// Mover is one person moving into the comune, as the declaration gives
// them: the registry may not know them yet.
type Mover struct {
	CF           string `json:"cf"`
	Surname      string `json:"surname"`
	GivenNames   string `json:"given_names"`
	Sex          string `json:"sex"`        // M or F
	BirthDate    string `json:"birth_date"` // YYYY-MM-DD
	BirthPlace   string `json:"birth_place"`
	Citizenship  string `json:"citizenship"`            // Belfiore code of the state, Z000 Italy
	Relationship int    `json:"relationship,omitempty"` // ANPR table 5, to the declarant; 1 the declarant
}

// Origin values of a residence change.
const (
	FromComune = "comune"
	FromAbroad = "estero"
)

// ResidenceForm is a dichiarazione di residenza into the comune from
// another comune or from abroad (DPR 223/1989 art. 13 c. 1 lett. a; DL
// 5/2012 art. 5): every person moving, the new address, the declarant's
// statement. The office registers it within two working days and it is
// accepted by silence 45 days after the declaration (Deadlines).
type ResidenceForm struct {
	// Origin is FromComune or FromAbroad; OriginPlace the Belfiore code
	// of the comune (not this one) or the Z code of the state left.
	Origin      string     `json:"origin"`
	OriginPlace string     `json:"origin_place"`
	Persons     []Mover    `json:"persons"`
	NewAddress  NewAddress `json:"new_address"`
	Statement   bool       `json:"statement"`
}

// Cohabitation actions.
const (
	CohabitStart = "costituzione"
	CohabitEnd   = "cessazione"
)

// CohabitForm registers or ends a convivenza di fatto (L. 76/2016 art. 1
// c. 36-37): two adults united by a stable affective bond, not bound by
// kinship, affinity, adoption, marriage or civil union, cohabiting in one
// famiglia anagrafica (c. 37 refers to the registry declaration).
type CohabitForm struct {
	Action   string    `json:"action"`
	Partners [2]string `json:"partners"`
	// Statement is both partners' declaration (they sign it together;
	// at a kiosk the requester declares the other partner's consent).
	Statement bool `json:"statement"`
}

// HistoricalForm asks the office to prepare a historical certificate
// from its archive (DPR 223/1989 art. 33; DPR 445/2000 art. 40): the
// residence history of the subject, or the family as it was on a date.
type HistoricalForm struct {
	SubjectCF string `json:"subject_cf"`
	// What is "residenza" (the residence history) or "stato_di_famiglia"
	// (the family on Date).
	What string `json:"what"`
	Date string `json:"date,omitempty"` // YYYY-MM-DD, for stato_di_famiglia
	// Purpose is what the certificate is for (a pension, an inheritance).
	Purpose string `json:"purpose"`
}

// DATForm records the receipt of the person's disposizioni anticipate di
// trattamento, which the person delivers personally to the comune of
// residence (L. 219/2017 art. 4 c. 6). The document itself is the
// required attachment; the comune keeps it, it does not read it.
type DATForm struct {
	DocumentDate string `json:"document_date"` // YYYY-MM-DD
	// TrusteeCF and TrusteeName name the fiduciario, if any (art. 4 c. 1:
	// an adult capable of acting).
	TrusteeCF   string `json:"trustee_cf,omitempty"`
	TrusteeName string `json:"trustee_name,omitempty"`
	Statement   bool   `json:"statement"`
}

// Correctable fields.
const (
	FieldSurname    = "surname"
	FieldGivenNames = "given_names"
	FieldBirthDate  = "birth_date"
	FieldBirthPlace = "birth_place"
	FieldSex        = "sex"
	FieldEmail      = "email"
)

// CorrectionForm asks to correct one datum of a person's record against a
// supporting document (required attachment).
type CorrectionForm struct {
	SubjectCF string `json:"subject_cf"`
	Field     string `json:"field"`
	Correct   string `json:"correct"`
	Reason    string `json:"reason"`
}

// Env is what a form is checked against: the registry as one view reads
// it, the identified requester with their household, the city's comune
// and street list, and today.
type Env struct {
	Registry  registry.Reader
	Requester certificate.Requester
	// Channel decides the household rule: none at the office.
	Channel certificate.Channel
	Comune  string
	// Street is the city's street list: the CAP of a street, false when
	// the city has no street of that name.
	Street func(name string) (cap string, ok bool)
	Today  registry.Date
}

// Checked is a form that passed: the persons it concerns (codici fiscali,
// the requester first) and whether it needs an attachment.
type Checked struct {
	Persons []string
	// Registered are the records of the persons the registry holds whom
	// an open residence procedure marks (Person.ProcedureOpen).
	Marked []*registry.Person
}

// MinAttachments is how many attachments kind requires.
func MinAttachments(k Kind) int {
	switch k {
	case DAT, Correction:
		return 1
	}
	return 0
}

// CheckForm checks a filing's form against env: the section of its kind
// and only it, every field present and well formed, the persons known
// and within the requester's household, nothing contradictory. A refusal
// is a *fault.Error with one of the reasons above and an Italian sentence.
func CheckForm(k Kind, f Form, env Env) (Checked, error) {
	if !k.Valid() {
		return Checked{}, refuse(ReasonKindUnknown, "Il tipo di pratica %q non esiste.", k)
	}
	if n, got := f.sections(); n != 1 || got != k {
		return Checked{}, refuse(ReasonFormMismatch, "Il modulo deve contenere solo la sezione della pratica %q.", k.Title())
	}
	c := &checker{env: env}
	c.add(env.Requester.CF)
	var err error
	switch k {
	case AddressChange:
		err = c.address(f.Address)
	case ResidenceChange:
		err = c.residence(f.Residence)
	case Cohabitation:
		err = c.cohabit(f.Cohabit)
	case Historical:
		err = c.historical(f.Historical)
	case DAT:
		err = c.dat(f.DAT)
	case Correction:
		err = c.correction(f.Correction)
	}
	if err != nil {
		return Checked{}, err
	}
	return Checked{Persons: c.persons, Marked: c.marked}, nil
}

type checker struct {
	env     Env
	persons []string
	marked  []*registry.Person
}

func (c *checker) add(cf string) {
	cf = strings.ToUpper(strings.TrimSpace(cf))
	if cf != "" && !slices.Contains(c.persons, cf) {
		c.persons = append(c.persons, cf)
	}
}

// cf checks a codice fiscale's form.
func cf(field, code string) (string, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return "", refuse(ReasonFieldMissing, "Manca il codice fiscale (%s).", field)
	}
	if err := codicefiscale.Validate(code); err != nil {
		return "", refuse(ReasonFieldInvalid, "Il codice fiscale %s (%s) non è valido.", code, field)
	}
	return code, nil
}

// resident loads a person of the registry the requester may act for.
func (c *checker) resident(field, code string) (*registry.Person, error) {
	code, err := cf(field, code)
	if err != nil {
		return nil, err
	}
	p, err := c.env.Registry.PersonByCF(code)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		p = nil
	case err != nil:
		return nil, err
	}
	// The household first, as a certificate request does (issue 13's
	// no-oracle rule): at a counter or a kiosk a code nobody has and a
	// stranger's get the same refusal, so a filing tells no one who lives
	// in the city. The office (CheckHousehold lets it act for anyone)
	// is told which.
	if herr := certificate.CheckHousehold(certificate.Request{Requester: c.env.Requester, Channel: c.env.Channel}, p); herr != nil {
		return nil, refuse(ReasonNotHousehold, "La persona con codice fiscale %s (%s) non fa parte della famiglia anagrafica del richiedente.", code, field)
	}
	if p == nil || !p.Alive() {
		return nil, refuse(ReasonPersonUnknown, "La persona con codice fiscale %s (%s) non risulta tra i residenti.", code, field)
	}
	c.add(p.CF)
	return p, nil
}

func adult(p *registry.Person, today registry.Date) bool { return p.BirthDate.AgeAt(today) >= 18 }

// declarant checks that the requester may declare: an adult.
func (c *checker) declarant() error {
	if p := c.env.Requester.Person; p != nil && !adult(p, c.env.Today) {
		return refuse(ReasonMinor, "Il dichiarante deve essere maggiorenne.")
	}
	return nil
}

func statement(ok bool) error {
	if !ok {
		return refuse(ReasonStatementMissing, "Il dichiarante deve confermare che quanto dichiarato è vero, consapevole delle sanzioni dell'art. 76 DPR 445/2000.")
	}
	return nil
}

// street checks a new address against the city's street list and returns
// it as the registry keeps it.
func (c *checker) street(a NewAddress) (registry.Address, error) {
	name := strings.Join(strings.Fields(a.Street), " ")
	num := strings.TrimSpace(a.Number)
	switch {
	case name == "":
		return registry.Address{}, refuse(ReasonFieldMissing, "Manca la via del nuovo indirizzo.")
	case num == "":
		return registry.Address{}, refuse(ReasonFieldMissing, "Manca il numero civico del nuovo indirizzo.")
	case len(num) > 12 || !strings.ContainsAny(num[:1], "0123456789"):
		return registry.Address{}, refuse(ReasonFieldInvalid, "Il numero civico %q non è valido.", num)
	}
	if c.env.Street == nil {
		return registry.Address{}, refuse(ReasonAddressUnknown, "Lo stradario del Comune non è disponibile: l'indirizzo non può essere verificato.")
	}
	cap, ok := c.env.Street(name)
	if !ok {
		return registry.Address{}, refuse(ReasonAddressUnknown, "%s non è nello stradario del Comune.", name)
	}
	return registry.Address{Street: name, Number: num, Internal: strings.TrimSpace(a.Internal), CAP: cap, Comune: c.env.Comune}, nil
}

// Address returns the address a form moves to, as the registry keeps it,
// once CheckForm passed.
func Address(a NewAddress, env Env) (registry.Address, error) {
	return (&checker{env: env}).street(a)
}

func sameDwelling(a, b registry.Address) bool {
	norm := func(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), " ")) }
	return a.Comune == b.Comune && norm(a.Street) == norm(b.Street) && norm(a.Number) == norm(b.Number) && norm(a.Internal) == norm(b.Internal)
}

func (c *checker) address(f *AddressForm) error {
	if err := c.declarant(); err != nil {
		return err
	}
	if len(f.Persons) == 0 {
		return refuse(ReasonFieldMissing, "Indichi almeno una persona che cambia indirizzo.")
	}
	to, err := c.street(f.NewAddress)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var family registry.FamilyID
	for i, code := range f.Persons {
		p, err := c.resident("persona che si trasferisce", code)
		if err != nil {
			return err
		}
		if seen[p.CF] {
			return refuse(ReasonContradictory, "La persona %s è indicata due volte.", p.CF)
		}
		seen[p.CF] = true
		cur, ok := p.CurrentResidence()
		if !ok || p.AIRE || cur.Address.Comune != c.env.Comune {
			return refuse(ReasonContradictory, "%s non risulta residente nel Comune: serve la dichiarazione di residenza, non il cambio di indirizzo.", p.CF)
		}
		if sameDwelling(cur.Address, to) {
			return refuse(ReasonSameAddress, "%s risulta già residente in %s.", p.CF, to.Line())
		}
		if i == 0 {
			family = p.Family
		} else if p.Family != family {
			return refuse(ReasonContradictory, "Le persone indicate appartengono a famiglie anagrafiche diverse: presenti una pratica per famiglia.")
		}
		if !p.ProcedureOpen.IsZero() {
			return refuse(ReasonProcedureOpen, "Per %s è già aperta una pratica anagrafica dal %s.", p.CF, p.ProcedureOpen.Italian())
		}
		c.marked = append(c.marked, p)
	}
	return statement(f.Statement)
}

func (c *checker) residence(f *ResidenceForm) error {
	if err := c.declarant(); err != nil {
		return err
	}
	switch f.Origin {
	case FromComune:
		code := strings.ToUpper(strings.TrimSpace(f.OriginPlace))
		if len(code) != 4 || code[0] == 'Z' {
			return refuse(ReasonFieldInvalid, "Indichi il codice catastale del Comune di provenienza (es. H501).")
		}
		if code == c.env.Comune {
			return refuse(ReasonContradictory, "Il Comune di provenienza è questo stesso Comune: per spostarsi al suo interno serve il cambio di indirizzo.")
		}
	case FromAbroad:
		code := strings.ToUpper(strings.TrimSpace(f.OriginPlace))
		if len(code) != 4 || code[0] != 'Z' || code == registry.Italy {
			return refuse(ReasonFieldInvalid, "Indichi il codice dello Stato estero di provenienza (es. Z133).")
		}
	case "":
		return refuse(ReasonFieldMissing, "Indichi se la provenienza è un altro Comune o l'estero.")
	default:
		return refuse(ReasonFieldInvalid, "La provenienza %q non è né un Comune né l'estero.", f.Origin)
	}
	if len(f.Persons) == 0 {
		return refuse(ReasonFieldMissing, "Indichi tutte le persone che si trasferiscono, compreso il dichiarante.")
	}
	if _, err := c.street(f.NewAddress); err != nil {
		return err
	}
	seen := map[string]bool{}
	declarantIn := false
	for _, m := range f.Persons {
		code, err := cf("persona che si trasferisce", m.CF)
		if err != nil {
			return err
		}
		if seen[code] {
			return refuse(ReasonContradictory, "La persona %s è indicata due volte.", code)
		}
		seen[code] = true
		if code == strings.ToUpper(c.env.Requester.CF) {
			declarantIn = true
		}
		if err := checkMover(m); err != nil {
			return err
		}
		c.add(code)
		p, err := c.env.Registry.PersonByCF(code)
		switch {
		case errors.Is(err, registry.ErrNotFound):
			p = nil
		case err != nil:
			return err
		}
		// The declarant declares for themself, their household and the
		// minors in their care; every other adult moving must sign the
		// declaration too (DPR 223/1989 art. 6 and 13; the ministry's
		// form asks for each adult's signature), which the office takes
		// when it checks the move. So at a counter or a kiosk such an
		// adult is filed as named but nothing of their record is touched:
		// no open procedure, which a stranger's filing must not set on
		// someone, and no check of their record either, so the filing
		// answers the same whether the registry knows them or not (no
		// oracle). The office sees them in the form and decides.
		inHousehold := p != nil && certificate.CheckHousehold(certificate.Request{Requester: c.env.Requester, Channel: c.env.Channel}, p) == nil
		if born, berr := registry.ParseDate(m.BirthDate); c.env.Channel != certificate.Office && code != strings.ToUpper(c.env.Requester.CF) &&
			!inHousehold && (berr != nil || born.AgeAt(c.env.Today) >= 18) {
			continue
		}
		if p == nil {
			continue // a newcomer: the registry knows them on acceptance
		}
		// Someone the registry knows outside the requester's household:
		// at a counter or a kiosk one sentence for whatever stops them
		// (dead, resident here, a procedure open since a date), so the
		// filing tells a stranger nothing of them (issue 13's no-oracle
		// rule); the office is told which.
		if !inHousehold && (!p.Alive() || !p.ProcedureOpen.IsZero() || residentHere(p, c.env.Comune)) {
			return refuse(ReasonContradictory, "La persona %s non può essere dichiarata in questa pratica: si rivolga all'ufficio anagrafe.", code)
		}
		if !p.Alive() {
			return refuse(ReasonContradictory, "La persona %s risulta deceduta.", code)
		}
		if cur, ok := p.CurrentResidence(); ok && !p.AIRE && cur.Address.Comune == c.env.Comune {
			return refuse(ReasonContradictory, "%s risulta già residente nel Comune: serve il cambio di indirizzo.", code)
		}
		if !p.ProcedureOpen.IsZero() {
			return refuse(ReasonProcedureOpen, "Per %s è già aperta una pratica anagrafica dal %s.", code, p.ProcedureOpen.Italian())
		}
		c.marked = append(c.marked, p)
	}
	if !declarantIn {
		return refuse(ReasonContradictory, "Il dichiarante deve essere tra le persone che si trasferiscono.")
	}
	return statement(f.Statement)
}

// residentHere reports whether p lives in comune now (not AIRE).
func residentHere(p *registry.Person, comune string) bool {
	cur, ok := p.CurrentResidence()
	return ok && !p.AIRE && cur.Address.Comune == comune
}

// checkMover checks the personal data of a person moving in, and that
// they agree with the codice fiscale's own (birth date, sex).
func checkMover(m Mover) error {
	code := strings.ToUpper(strings.TrimSpace(m.CF))
	switch {
	case strings.TrimSpace(m.Surname) == "" || strings.TrimSpace(m.GivenNames) == "":
		return refuse(ReasonFieldMissing, "Mancano cognome o nome di %s.", code)
	case m.Sex != "M" && m.Sex != "F":
		return refuse(ReasonFieldInvalid, "Il sesso di %s deve essere M o F.", code)
	case strings.TrimSpace(m.BirthPlace) == "":
		return refuse(ReasonFieldMissing, "Manca il luogo di nascita di %s.", code)
	case strings.TrimSpace(m.Citizenship) == "":
		return refuse(ReasonFieldMissing, "Manca la cittadinanza di %s.", code)
	case m.Relationship != 0 && !registry.Relationship(m.Relationship).Valid():
		return refuse(ReasonFieldInvalid, "La relazione di parentela %d di %s non è nella tabella ANPR.", m.Relationship, code)
	}
	birth, err := registry.ParseDate(m.BirthDate)
	if err != nil {
		return refuse(ReasonFieldInvalid, "La data di nascita di %s deve essere nella forma AAAA-MM-GG.", code)
	}
	// The codice fiscale encodes the birth date and sex (DM 23.12.1976):
	// a declaration that contradicts it is refused, not registered.
	base, err := codicefiscale.Base(code)
	if err == nil && len(base) == 16 {
		day := int(base[9]-'0')*10 + int(base[10]-'0')
		female := day > 40
		if female {
			day -= 40
		}
		if female != (m.Sex == "F") || day != birth.Day || (int(base[6]-'0')*10+int(base[7]-'0')) != birth.Year%100 {
			return refuse(ReasonContradictory, "La data di nascita o il sesso dichiarati per %s non corrispondono al codice fiscale.", code)
		}
	}
	return nil
}

func (c *checker) cohabit(f *CohabitForm) error {
	if f.Action != CohabitStart && f.Action != CohabitEnd {
		return refuse(ReasonFieldInvalid, "Indichi se la convivenza di fatto si costituisce o cessa.")
	}
	var ps [2]*registry.Person
	for i, code := range f.Partners {
		p, err := c.resident("convivente", code)
		if err != nil {
			return err
		}
		ps[i] = p
	}
	a, b := ps[0], ps[1]
	if a.ID == b.ID {
		return refuse(ReasonContradictory, "I due conviventi devono essere persone diverse.")
	}
	if strings.ToUpper(c.env.Requester.CF) != a.CF && strings.ToUpper(c.env.Requester.CF) != b.CF && c.env.Channel != certificate.Office {
		return refuse(ReasonContradictory, "La dichiarazione deve essere resa da uno dei due conviventi.")
	}
	for _, p := range ps {
		if !adult(p, c.env.Today) {
			return refuse(ReasonMinor, "%s non è maggiorenne: la convivenza di fatto è tra persone maggiorenni (L. 76/2016 art. 1 c. 36).", p.CF)
		}
	}
	if a.Family == 0 || a.Family != b.Family {
		return refuse(ReasonContradictory, "I conviventi devono far parte della stessa famiglia anagrafica (L. 76/2016 art. 1 c. 37).")
	}
	cohabiting := a.Relationship == registry.Cohabitant || b.Relationship == registry.Cohabitant
	if f.Action == CohabitStart {
		for _, p := range ps {
			if p.CivilStatus == registry.Married || p.CivilStatus == registry.CivilUnion {
				return refuse(ReasonContradictory, "%s risulta coniugato o unito civilmente: la convivenza di fatto non è possibile (L. 76/2016 art. 1 c. 36).", p.CF)
			}
		}
		if kin(a.Relationship, b.Relationship) {
			return refuse(ReasonContradictory, "I conviventi risultano legati da parentela o affinità (L. 76/2016 art. 1 c. 36).")
		}
		if cohabiting {
			return refuse(ReasonContradictory, "La convivenza di fatto risulta già registrata.")
		}
	} else if !cohabiting {
		return refuse(ReasonContradictory, "Non risulta registrata una convivenza di fatto tra queste persone.")
	}
	return statement(f.Statement)
}

// kin reports whether two members' relationships to the head make them
// relatives or in-laws of each other, as far as the scheda di famiglia
// says: the head and a relative of the head, or two children of the head.
func kin(a, b registry.Relationship) bool {
	related := func(r registry.Relationship) bool {
		return r != registry.Head && r != registry.Cohabitant && r != registry.RelationshipUnknown && r != 0
	}
	if a == registry.Head {
		return related(b)
	}
	if b == registry.Head {
		return related(a)
	}
	return related(a) && related(b)
}

func (c *checker) historical(f *HistoricalForm) error {
	p, err := c.resident("persona del certificato", f.SubjectCF)
	if err != nil {
		return err
	}
	if strings.TrimSpace(f.Purpose) == "" {
		return refuse(ReasonFieldMissing, "Indichi a che cosa serve il certificato storico.")
	}
	switch f.What {
	case "residenza":
		if f.Date != "" {
			return refuse(ReasonContradictory, "Il certificato storico di residenza riporta tutta la storia: non indichi una data.")
		}
	case "stato_di_famiglia":
		d, err := registry.ParseDate(f.Date)
		if err != nil {
			return refuse(ReasonFieldInvalid, "Indichi la data dello stato di famiglia storico nella forma AAAA-MM-GG.")
		}
		if c.env.Today.Before(d) {
			return refuse(ReasonFieldInvalid, "La data %s è nel futuro.", d.Italian())
		}
		if d.Before(p.BirthDate) {
			return refuse(ReasonContradictory, "La data %s è precedente alla nascita della persona.", d.Italian())
		}
	case "":
		return refuse(ReasonFieldMissing, "Indichi quale certificato storico chiede: residenza o stato di famiglia.")
	default:
		return refuse(ReasonFieldInvalid, "Il certificato storico %q non è tra quelli che l'ufficio prepara (residenza, stato di famiglia).", f.What)
	}
	return nil
}

func (c *checker) dat(f *DATForm) error {
	// L. 219/2017 art. 4 c. 6: delivered personally by the disponente,
	// who must be an adult resident of the comune.
	p := c.env.Requester.Person
	if p == nil {
		return refuse(ReasonPersonUnknown, "Le DAT si consegnano al Comune di residenza: il richiedente non risulta residente.")
	}
	if cur, ok := p.CurrentResidence(); !ok || p.AIRE || cur.Address.Comune != c.env.Comune {
		return refuse(ReasonPersonUnknown, "Le DAT si consegnano al Comune di residenza: il richiedente non risulta residente.")
	}
	if !adult(p, c.env.Today) {
		return refuse(ReasonMinor, "Le DAT possono essere rese solo da una persona maggiorenne (L. 219/2017 art. 4 c. 1).")
	}
	d, err := registry.ParseDate(f.DocumentDate)
	if err != nil {
		return refuse(ReasonFieldInvalid, "Indichi la data del documento delle DAT nella forma AAAA-MM-GG.")
	}
	if c.env.Today.Before(d) {
		return refuse(ReasonFieldInvalid, "La data del documento delle DAT è nel futuro.")
	}
	if strings.TrimSpace(f.TrusteeCF) != "" {
		code, err := cf("fiduciario", f.TrusteeCF)
		if err != nil {
			return err
		}
		if code == p.CF {
			return refuse(ReasonContradictory, "Il fiduciario non può essere la persona stessa che rende le DAT.")
		}
		if strings.TrimSpace(f.TrusteeName) == "" {
			return refuse(ReasonFieldMissing, "Manca il nome del fiduciario.")
		}
		if t, err := c.env.Registry.PersonByCF(code); err == nil && !adult(t, c.env.Today) {
			return refuse(ReasonMinor, "Il fiduciario deve essere maggiorenne (L. 219/2017 art. 4 c. 1).")
		}
	} else if strings.TrimSpace(f.TrusteeName) != "" {
		return refuse(ReasonFieldMissing, "Manca il codice fiscale del fiduciario.")
	}
	return statement(f.Statement)
}

func (c *checker) correction(f *CorrectionForm) error {
	p, err := c.resident("persona di cui correggere i dati", f.SubjectCF)
	if err != nil {
		return err
	}
	want := strings.TrimSpace(f.Correct)
	if want == "" {
		return refuse(ReasonFieldMissing, "Indichi il dato corretto.")
	}
	if strings.TrimSpace(f.Reason) == "" {
		return refuse(ReasonFieldMissing, "Indichi il motivo della rettifica.")
	}
	cur, err := Current(p, f.Field)
	if err != nil {
		return err
	}
	if strings.EqualFold(cur, want) {
		return refuse(ReasonContradictory, "Il dato indicato è già quello registrato.")
	}
	q := *p
	if err := Apply(&q, f.Field, want); err != nil {
		return err
	}
	return nil
}

// Current is the value of a correctable field of p.
func Current(p *registry.Person, field string) (string, error) {
	switch field {
	case FieldSurname:
		return p.Surname, nil
	case FieldGivenNames:
		return p.GivenNames, nil
	case FieldBirthDate:
		return p.BirthDate.String(), nil
	case FieldBirthPlace:
		return p.BirthPlace, nil
	case FieldSex:
		return p.Sex.String(), nil
	case FieldEmail:
		return p.Email, nil
	case "":
		return "", refuse(ReasonFieldMissing, "Indichi quale dato correggere.")
	}
	return "", refuse(ReasonFieldInvalid, "Il dato %q non si corregge con questa pratica.", field)
}

// Apply sets a correctable field of p to value.
func Apply(p *registry.Person, field, value string) error {
	value = strings.TrimSpace(value)
	switch field {
	case FieldSurname:
		p.Surname = strings.ToUpper(value)
	case FieldGivenNames:
		p.GivenNames = strings.ToUpper(value)
	case FieldBirthDate:
		d, err := registry.ParseDate(value)
		if err != nil {
			return refuse(ReasonFieldInvalid, "La data corretta deve essere nella forma AAAA-MM-GG.")
		}
		p.BirthDate = d
	case FieldBirthPlace:
		if len(value) != 4 {
			return refuse(ReasonFieldInvalid, "Il luogo di nascita si indica con il codice catastale (es. F205).")
		}
		p.BirthPlace = strings.ToUpper(value)
	case FieldSex:
		if value != "M" && value != "F" {
			return refuse(ReasonFieldInvalid, "Il sesso deve essere M o F.")
		}
		p.Sex = registry.Sex(value[0])
	case FieldEmail:
		if !strings.Contains(value, "@") || strings.ContainsAny(value, " \t\r\n") {
			return refuse(ReasonFieldInvalid, "L'indirizzo e-mail %q non è valido.", value)
		}
		p.Email = value
	default:
		_, err := Current(p, field)
		return err
	}
	return nil
}
