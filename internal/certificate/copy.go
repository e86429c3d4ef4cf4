package certificate

import (
	"strings"

	"github.com/sportello/sportello/internal/fees"
)

// CopyOpening opens a copy's body in place of Opening: a copy states what
// the certificate certified, it certifies nothing itself.
const CopyOpening = "COPIA del certificato rilasciato dal Comune: i dati certificati erano i seguenti."

// CopySealRule replaces the seal sentence of the signatory block on a copy,
// which carries no seal (art. 20 D.Lgs. 82/2005: without the comune's seal
// the copy is not the informatic document that was issued).
const CopySealRule = "Copia priva del sigillo elettronico del Comune: non sostituisce la firma e non vale come originale."

// CopyOf is the document of a copy of the certificate rec, rebuilt from
// what the hub keeps of it (issue 15: a self-service reprint is a copy,
// never a second original): its title, number and date, the subject's name
// and codice fiscale, each section's printed values as the seal carried
// them (Record.Facts), the comune's fees, and the use's notice, under
// issuer with CopySealRule. The caller renders it with the copy mark and
// without a seal.
func CopyOf(rec Record, issuer Issuer, verifyURL string) *Document {
	issuer.SealRule = CopySealRule
	doc := &Document{
		ID: rec.ID, Types: append([]Type(nil), rec.Types...), Title: rec.Title, Issuer: issuer, Issued: rec.Issued,
		Protocol: rec.Protocol, Subject: Subject{Name: rec.SubjectName, CF: rec.SubjectCF},
		Opening: CopyOpening, VerifyURL: verifyURL, Facts: append([]Fact(nil), rec.Facts...),
	}
	byKey := map[string]string{}
	for _, f := range rec.Facts {
		byKey[f.Key] = f.Value
	}
	if at := byKey["data_di_riferimento"]; at != "" {
		doc.Sections = append(doc.Sections, Section{Lines: []Line{{Label: "Data di riferimento", Value: at}}})
	}
	for _, t := range rec.Types {
		heading := specByType[t].Part // "RESIDENZA", as a contestuale names it
		if heading == "" {
			heading = strings.TrimPrefix(t.Title(), "CERTIFICATO ")
		}
		sec := Section{Heading: heading}
		for _, v := range strings.Split(byKey[string(t)], "\n") {
			if v = strings.TrimSpace(v); v != "" {
				sec.Lines = append(sec.Lines, Line{Value: v})
			}
		}
		doc.Sections = append(doc.Sections, sec)
	}
	for _, l := range rec.Fees {
		if l.Kind == fees.Service {
			continue // the shop's own charge, never on the certificate
		}
		doc.Fees = append(doc.Fees, FeeLine{Label: l.Label, Cents: l.Cents, Note: l.Note})
	}
	doc.Notices = []string{rec.Use.Notice()}
	return doc
}
