package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/protocol"
)

// Issued is what the subject of a certificate is told when someone else in
// their household obtained it.
type Issued struct {
	CertificateID string
	Protocol      string
	Title         string // "Certificato di residenza"
	Issued        time.Time
	SubjectCF     string
	SubjectEmail  string
	RequesterName string // "ROSSI MARIO"
	// Place is where it was issued, by name: the shop, or the city's
	// office.
	Place string
	// Delegation is the delegation under which RequesterName obtained it,
	// when they did (issue 17): the subject gave it and is told of each
	// use.
	Delegation string
}

// Item is the queue item for is: one per certificate, so a retried
// issuance never notifies twice.
func (is Issued) Item(now time.Time) Item {
	return Item{ID: is.CertificateID, Message: is.Message(), Enqueued: now}
}

// Message is the notification's text, in Italian with an English
// paragraph, within App IO's limits.
func (is Issued) Message() Message {
	at := is.Issued.In(protocol.Rome)
	title := strings.TrimSpace(is.Title)
	if title == "" {
		title = "Certificato anagrafico"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Il %s alle %s è stato rilasciato un certificato che la riguarda (%s, protocollo %s), richiesto da **%s** presso **%s**.\n\n",
		at.Format("02/01/2006"), at.Format("15:04"), strings.ToLower(title), is.Protocol, is.RequesterName, is.Place)
	if is.Delegation != "" {
		fmt.Fprintf(&b, "Il certificato è stato rilasciato in base alla delega **%s** che lei ha conferito. Può vedere e revocare le sue deleghe alla postazione self-service o allo sportello.\n\n", is.Delegation)
	}
	b.WriteString("Se non è stato chiesto con il suo consenso, lo segnali all'ufficio anagrafe del Comune citando il protocollo. ")
	b.WriteString("Alla postazione self-service, con la sua CIE e il PIN, può vedere chi ha consultato i suoi dati negli ultimi 12 mesi.\n\n")
	fmt.Fprintf(&b, "*On %s at %s a certificate about you (%s) was issued at the request of %s at %s. If you did not agree to it, tell the registry office and quote the protocol number.*\n",
		at.Format("2006-01-02"), at.Format("15:04"), is.Protocol, is.RequesterName, is.Place)
	md := b.String()
	if r := []rune(md); len(r) > MarkdownMax {
		md = string(r[:MarkdownMax])
	}
	subject := "Rilasciato un certificato che la riguarda"
	if is.Delegation != "" {
		subject = "Usata la sua delega: rilasciato un suo certificato"
	}
	return Message{CF: is.SubjectCF, Email: is.SubjectEmail, Subject: subject, Markdown: md}
}
