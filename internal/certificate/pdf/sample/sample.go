// Package sample holds hand-built certificate Documents for the renderer's
// and the seal's tests: names with apostrophes and diacritics, a family
// table, fees and an exemption, in the shape the certificate rules produce.
package sample

import (
	"time"

	"github.com/sportello/sportello/internal/certificate"
)

// Issued is the fixed issue instant of the samples: 23 November 2026,
// 10:30 in Milan.
var Issued = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

func milano() certificate.Issuer {
	return certificate.Issuer{
		Comune:   "Comune di Milano",
		Belfiore: "F205",
		Office:   "Servizi Civici — Ufficio Anagrafe",
		Address:  "Via Larga 12, 20122 Milano",
		Officer:  "L'Ufficiale d'Anagrafe",
		Place:    "Milano",
		// The delegated officer, as a city sets them (city.Config).
		OfficerName: "Maria Grazia Colombo",
		Delegation:  "decreto sindacale n. 12 del 03/02/2025",
	}
}

const art40 = "Il presente certificato non può essere prodotto agli organi della pubblica amministrazione o ai privati gestori di pubblici servizi (art. 40 DPR 445/2000)."

// Residenza is a certificate of residence for Nicolò D'Amico.
func Residenza() certificate.Document {
	addr := "Via Giuseppe Verdi 12, 20121 Milano (MI)"
	return certificate.Document{
		ID:       "C7Q2M9XK4T",
		Types:    []certificate.Type{"residenza"},
		Title:    "CERTIFICATO DI RESIDENZA",
		Issuer:   milano(),
		Issued:   Issued,
		Protocol: "2026/0000123",
		Subject: certificate.Subject{
			Name: "D'AMICO NICOLÒ", CF: "DMCNCL85M12F205Q",
			BirthDate: "12/08/1985", BirthPlace: "MILANO (MI)", Sex: "M",
		},
		Opening: "L'Ufficiale d'Anagrafe, visti gli atti d'ufficio, CERTIFICA che la persona sotto indicata risulta residente in questo Comune.",
		Sections: []certificate.Section{{
			Heading: "Residenza",
			Lines: []certificate.Line{
				{Label: "Indirizzo", Value: addr},
				{Label: "Iscritto in anagrafe dal", Value: "03/04/2012"},
			},
		}},
		Purpose: "Rilasciato in bollo per gli usi consentiti dalla legge.",
		Fees: []certificate.FeeLine{
			{Label: "Imposta di bollo", Cents: 1600},
			{Label: "Diritti di segreteria", Cents: 52},
		},
		Notices:   []string{art40},
		Facts:     []certificate.Fact{{Key: "residenza", Value: addr}},
		VerifyURL: "https://certificati.comune.milano.it/v/C7Q2M9XK4T",
	}
}

// StatoDiFamiglia is a family certificate for the Müller–Ștefănescu family,
// exempt from stamp duty.
func StatoDiFamiglia() certificate.Document {
	addr := "Viale Monte Nero 41, 20135 Milano (MI)"
	members := [][]string{
		{"MÜLLER JÜRGEN", "MLLJRG79C05Z112L", "05/03/1979", "Intestatario scheda"},
		{"ȘTEFĂNESCU IOANA", "STFNIO82T63Z129S", "23/12/1982", "Coniuge"},
		{"MÜLLER ȘTEFĂNESCU LUCA", "MLLLCU10A01F205X", "01/01/2010", "Figlio"},
		{"MÜLLER ȘTEFĂNESCU ZOË", "MLLZOE14S41F205K", "01/11/2014", "Figlia"},
	}
	// The address is printed only in the opening, above the subject, and
	// the seal's facts are the values printed after the subject, in order
	// (certificate.PrintedFact): the members' codici fiscali.
	var facts []certificate.Fact
	for _, m := range members {
		// Codici fiscali keep the QR small; the names are in the table.
		facts = append(facts, certificate.Fact{Key: "componente", Value: m[1]})
	}
	return certificate.Document{
		ID:       "F3H8W2NB6P",
		Types:    []certificate.Type{"stato_di_famiglia"},
		Title:    "CERTIFICATO DI STATO DI FAMIGLIA",
		Issuer:   milano(),
		Issued:   Issued.Add(95 * time.Minute),
		Protocol: "2026/0000124",
		Subject: certificate.Subject{
			Name: "MÜLLER JÜRGEN", CF: "MLLJRG79C05Z112L",
			BirthDate: "05/03/1979", BirthPlace: "GERMANIA", Sex: "M",
		},
		Opening: "L'Ufficiale d'Anagrafe, visti gli atti d'ufficio, CERTIFICA che la famiglia anagrafica residente in " + addr + " risulta così composta:",
		Sections: []certificate.Section{{
			Heading: "Componenti della famiglia",
			Table: &certificate.Table{
				Header: []string{"Cognome e nome", "Codice fiscale", "Nato/a il", "Relazione"},
				Rows:   members,
			},
		}},
		Purpose: "Esente dall'imposta di bollo: separazione o divorzio (art. 19 L. 74/1987).",
		Fees: []certificate.FeeLine{
			{Label: "Imposta di bollo", Cents: 0, Note: "esente, art. 19 L. 74/1987"},
			{Label: "Diritti di segreteria", Cents: 0, Note: "esenti"},
		},
		Notices:   []string{art40},
		Facts:     facts,
		VerifyURL: "https://certificati.comune.milano.it/v/F3H8W2NB6P",
	}
}
