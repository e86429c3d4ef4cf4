package request

import (
	"fmt"

	"github.com/sportello/sportello/internal/fault"
)

// Reason codes of the refusals of a request, with the kind each is (the
// hub answers them with fault's status table). The catalogues (hubapi's
// Reasons, the kiosk's and the console's sentences) list each one.
const (
	ReasonKindUnknown        = "request_kind_unknown"
	ReasonFormMismatch       = "request_form_mismatch"
	ReasonFieldMissing       = "request_field_missing"
	ReasonFieldInvalid       = "request_field_invalid"
	ReasonContradictory      = "request_contradictory"
	ReasonAddressUnknown     = "request_address_unknown"
	ReasonSameAddress        = "request_same_address"
	ReasonPersonUnknown      = "request_person_unknown"
	ReasonNotHousehold       = "request_not_household"
	ReasonMinor              = "request_minor"
	ReasonStatementMissing   = "request_statement_missing"
	ReasonAttachmentType     = "request_attachment_type"
	ReasonAttachmentTooLarge = "request_attachment_too_large"
	ReasonAttachmentRequired = "request_attachment_required"
	ReasonAttachmentsMany    = "request_attachments_too_many"
	ReasonProcedureOpen      = "request_procedure_open"
	ReasonNotFound           = "request_not_found"
	ReasonStale              = "request_stale"
	ReasonState              = "request_state"
	ReasonNotYours           = "request_not_yours"
	ReasonDecisionMissing    = "request_decision_missing"
)

// Reasons lists every reason code of this package.
func Reasons() []string {
	return []string{ReasonKindUnknown, ReasonFormMismatch, ReasonFieldMissing, ReasonFieldInvalid, ReasonContradictory,
		ReasonAddressUnknown, ReasonSameAddress, ReasonPersonUnknown, ReasonNotHousehold, ReasonMinor,
		ReasonStatementMissing, ReasonAttachmentType, ReasonAttachmentTooLarge, ReasonAttachmentRequired,
		ReasonAttachmentsMany, ReasonProcedureOpen, ReasonNotFound, ReasonStale, ReasonState, ReasonNotYours,
		ReasonDecisionMissing}
}

// Sentences are each reason's one sentence, Italian then English, for the
// kiosk's and the console's catalogues.
var Sentences = map[string][2]string{
	ReasonKindUnknown:        {"Il tipo di pratica richiesto non esiste.", "The kind of request asked for does not exist."},
	ReasonFormMismatch:       {"Il modulo compilato non corrisponde al tipo di pratica.", "The form filled in does not match the kind of request."},
	ReasonFieldMissing:       {"Manca un dato obbligatorio del modulo.", "A required field of the form is missing."},
	ReasonFieldInvalid:       {"Un dato del modulo non è valido.", "A field of the form is not valid."},
	ReasonContradictory:      {"Alcuni dati del modulo si contraddicono.", "Some fields of the form contradict each other."},
	ReasonAddressUnknown:     {"L'indirizzo indicato non è nello stradario del Comune.", "The address given is not in the city's street list."},
	ReasonSameAddress:        {"Il nuovo indirizzo è quello in cui risulta già residente.", "The new address is the one already registered."},
	ReasonPersonUnknown:      {"Una persona indicata non risulta nell'anagrafe del Comune.", "A person named is not in the city's registry."},
	ReasonNotHousehold:       {"Si può presentare la pratica solo per sé o per la propria famiglia anagrafica.", "A request may be filed only for oneself or one's own household."},
	ReasonMinor:              {"La dichiarazione deve essere resa da una persona maggiorenne.", "The declaration must be made by an adult."},
	ReasonStatementMissing:   {"Manca la dichiarazione di responsabilità del dichiarante.", "The declarant's statement of responsibility is missing."},
	ReasonAttachmentType:     {"Gli allegati devono essere file PDF o immagini JPEG o PNG.", "Attachments must be PDF files or JPEG or PNG images."},
	ReasonAttachmentTooLarge: {"Un allegato supera la dimensione massima consentita.", "An attachment is larger than allowed."},
	ReasonAttachmentRequired: {"Questa pratica richiede un documento allegato.", "This request needs a supporting document attached."},
	ReasonAttachmentsMany:    {"Sono stati allegati troppi documenti.", "Too many documents were attached."},
	ReasonProcedureOpen:      {"Per questa persona è già aperta una pratica di residenza.", "A residence procedure is already open for this person."},
	ReasonNotFound:           {"La pratica indicata non esiste.", "The request named does not exist."},
	ReasonStale:              {"La pratica è stata modificata nel frattempo: la riapra e riprovi.", "The request changed meanwhile: open it again and retry."},
	ReasonState:              {"Questa operazione non è possibile nello stato attuale della pratica.", "This action is not possible in the request's current state."},
	ReasonNotYours:           {"La pratica non riguarda la persona identificata.", "The request does not concern the person identified."},
	ReasonDecisionMissing:    {"Scriva la motivazione della decisione o della richiesta.", "Write the reasons for the decision or the question."},
}

// refuse is a refusal of the request's content with reason and an
// Italian sentence naming what is wrong.
func refuse(reason, format string, args ...any) error {
	return fault.New(kindOf(reason), reason, fmt.Sprintf(format, args...))
}

// kindOf is the fault kind of a reason.
func kindOf(reason string) fault.Kind {
	switch reason {
	case ReasonNotFound:
		return fault.NotFound
	case ReasonStale, ReasonState, ReasonProcedureOpen:
		return fault.Conflict
	case ReasonNotHousehold, ReasonNotYours:
		return fault.Forbidden
	case ReasonAttachmentTooLarge:
		return fault.TooLarge
	}
	return fault.Invalid
}

// Refuse is refuse for the desk: a refusal with reason and sentence.
func Refuse(reason, format string, args ...any) error { return refuse(reason, format, args...) }
