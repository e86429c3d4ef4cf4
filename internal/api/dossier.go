package api

import "time"

// Paths of the citizen's dossier (issue 17 item 5), signed, with the
// citizen's evidence in a DossierRequest body.
const (
	PathDossier    = "/api/v1/dossier"
	PathDossierPDF = "/api/v1/dossier/pdf"
)

// DossierQuery identifies the citizen whose dossier is read: CIE and PIN
// at a self-service kiosk, CIE or document at a counter that prints it on
// request.
type DossierQuery struct {
	Requester RequesterEvidence `json:"requester"`
	Channel   string            `json:"channel,omitempty"`
}

// Dossier is the citizen's dossier (Fascicolo del cittadino): everything
// the hub holds about them, on one page.
type Dossier struct {
	Generated time.Time     `json:"generated"`
	Person    DossierPerson `json:"person"`
	// Household is the other members of the citizen's famiglia anagrafica.
	Household []DossierMember   `json:"household"`
	Documents []DossierDocument `json:"documents"`
	// Certificates are those issued about the citizen, or at their
	// request about someone else, newest first.
	Certificates        []DossierCertificate `json:"certificates"`
	Requests            []DossierRequest     `json:"requests"`
	Appointments        []DossierAppointment `json:"appointments"`
	DelegationsGiven    []Delegation         `json:"delegations_given"`
	DelegationsReceived []Delegation         `json:"delegations_received"`
	// AccessLog is who read the citizen's data in the last 12 months,
	// newest first, at most DossierAccessLines of AccessTotal.
	AccessLog   []AccessLine `json:"access_log"`
	AccessTotal int          `json:"access_total"`
}

// DossierAccessLines bounds the access log's lines in a dossier; the
// kiosk's access-log screen pages through all of them.
const DossierAccessLines = 30

// DossierPerson is the citizen's own registry data.
type DossierPerson struct {
	CF          string `json:"cf"`
	Surname     string `json:"surname"`
	GivenNames  string `json:"given_names"`
	Sex         string `json:"sex"`
	BirthDate   string `json:"birth_date"`
	BirthPlace  string `json:"birth_place"`
	Citizenship string `json:"citizenship"`
	CivilStatus string `json:"civil_status"`
	Address     string `json:"address"`
	// ResidentSince is the first day at Address.
	ResidentSince string `json:"resident_since,omitempty"`
	Email         string `json:"email,omitempty"`
	// ProcedureOpen is the start of an administrative procedure open on
	// the record (a residence change being examined).
	ProcedureOpen string `json:"procedure_open,omitempty"`
}

// DossierMember is a member of the citizen's famiglia anagrafica.
type DossierMember struct {
	CF           string `json:"cf"`
	Name         string `json:"name"`
	BirthDate    string `json:"birth_date"`
	Relationship string `json:"relationship"`
}

// DossierDocument is an identity document with its expiry.
type DossierDocument struct {
	Kind    string `json:"kind"`
	Number  string `json:"number"`
	Issued  string `json:"issued"`
	Expires string `json:"expires"`
	// State is "valido", "in scadenza" (within 180 days), "scaduto" or
	// "revocato"; DaysLeft counts to the expiry (negative when past).
	State    string `json:"state"`
	DaysLeft int    `json:"days_left"`
}

// DossierCertificate is one certificate issued.
type DossierCertificate struct {
	ID          string    `json:"id"`
	Protocol    string    `json:"protocol"`
	Title       string    `json:"title"`
	Issued      time.Time `json:"issued"`
	SubjectCF   string    `json:"subject_cf"`
	SubjectName string    `json:"subject_name"`
	RequesterCF string    `json:"requester_cf,omitempty"`
	Channel     string    `json:"channel"`
	// Delegation is the delegation it was obtained under, if any.
	Delegation string `json:"delegation,omitempty"`
	Status     string `json:"status"` // "valid" or "revoked"
	// CopyAvailable: the PDF is still kept, so a copy can be re-printed
	// (GET /api/v1/certificates/{id}/pdf?copy=1).
	CopyAvailable bool `json:"copy_available"`
}

// DossierRequest is one request and its status.
type DossierRequest struct {
	ID       string    `json:"id"`
	Protocol string    `json:"protocol,omitempty"`
	Kind     string    `json:"kind"`
	Title    string    `json:"title"`
	Filed    time.Time `json:"filed"`
	Status   string    `json:"status"`
}

// DossierAppointment is one booked appointment.
type DossierAppointment struct {
	Ref     string    `json:"ref"`
	Service string    `json:"service"`
	Office  string    `json:"office"`
	At      time.Time `json:"at"`
	Status  string    `json:"status"`
}
