package audit

import "github.com/sportello/sportello/internal/protocol"

// ProtocolActor is the actor of the entries the protocol register's own
// procedure records: the hub's numbering, not a person.
var ProtocolActor = Actor{Kind: System, ID: "protocollo"}

// Annulment is the audit entry of protocol annulment e, made by the hub's
// numbering on its own (a number handed out whose document was never
// registered: art. 54 DPR 445/2000). The numbering records it in the
// transaction that writes the annulment, so a crash cannot leave one
// without the other; no person's data was read, so the subject is "-".
func Annulment(e protocol.Entry) Entry {
	return Entry{
		Time: e.Time, Actor: ProtocolActor, Subject: "-", Channel: "recovery",
		Purpose: "annullamento della registrazione di protocollo (art. 54 DPR 445/2000): " + e.Reason() + "; autorizzazione: " + e.Authorisation,
		Data:    "registro di protocollo, numero " + e.Number.String() + " (nessun dato personale letto)",
		Request: e.Number.String(),
	}
}
