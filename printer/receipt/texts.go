package receipt

import "strings"

type strs struct {
	operator, protocol, total, exempt, verify, privacy string
	partitaIVA, contrassegno                           string
	timeLayout                                         string
	// The claim receipt's own sentences (claim.go).
	claimTitle, notCertificate, claimCode, claimWait string
	// claimCollect replaces claimWait on a self-service kiosk's claim
	// receipt: collected there with the card, paid then (Claim.Collect).
	claimCollect string
	// claimCollectPaid is claimCollect for a request already paid.
	claimCollectPaid string
	copy             string // a reprint's mark (Receipt.Copy)
	// claimIdentity replaces claimWait at a counter for a new customer
	// served offline (Claim.IdentityPending).
	claimIdentity string
	fees          map[FeeKind]string
	types         map[string]string
}

// certificate names a certificate type in the receipt's language; an
// unknown identifier is printed legibly rather than refused, since the hub
// may add types before kiosks are updated.
func (s strs) certificate(id string) string {
	if n, ok := s.types[id]; ok {
		return n
	}
	return strings.ReplaceAll(id, "_", " ")
}

var texts = map[Lang]strs{
	Italian: {
		partitaIVA: "P.IVA", contrassegno: "Contrassegno n.",
		operator: "Operatore", protocol: "Prot.", total: "TOTALE", exempt: "esente",
		verify:     "Verifica l'autenticità del certificato:",
		privacy:    "Privacy: i dati personali sono trattati dal Comune solo per il rilascio del certificato (Reg. UE 2016/679); l'informativa è disponibile presso l'esercente.",
		timeLayout: "02/01/2006 15:04",
		claimTitle: "RICEVUTA DI PRENOTAZIONE", notCertificate: "Questa ricevuta non è un certificato.",
		claimCode:        "Codice di ritiro",
		claimWait:        "Il collegamento con il Comune è momentaneamente assente: il certificato sarà stampato qui appena tornerà, oppure quando tornerai con questa ricevuta.",
		copy:             "COPIA",
		claimCollectPaid: "Hai già pagato. Il certificato sarà emesso appena il collegamento con il Comune tornerà: ritiralo a questo chiosco con il codice qui sopra e la tua CIE.",
		claimCollect:     "Non hai pagato nulla. Il certificato sarà emesso quando il Comune avrà confermato la tua identità: ritiralo a questo chiosco con il codice qui sopra e la tua CIE, e pagalo in quel momento.",
		claimIdentity: "Il collegamento con il Comune è momentaneamente assente, quindi il Comune non ha ancora potuto confermare la tua identità. " +
			"Il certificato sarà rilasciato appena il Comune la confermerà: ritiralo con questa ricevuta e il codice qui sopra. " +
			"Se il Comune non potrà confermarla, il certificato non sarà rilasciato e quanto pagato ti sarà restituito.",
		fees: map[FeeKind]string{
			Bollo: "Imposta di bollo", Exemption: "Bollo", Diritti: "Diritti di segreteria", Service: "Servizio",
		},
		types: map[string]string{
			"nascita":                          "Certificato di nascita",
			"matrimonio":                       "Certificato di matrimonio",
			"cittadinanza":                     "Certificato di cittadinanza",
			"esistenza_in_vita":                "Certificato di esistenza in vita",
			"residenza":                        "Certificato di residenza",
			"residenza_aire":                   "Certificato di residenza AIRE",
			"stato_civile":                     "Certificato di stato civile",
			"stato_di_famiglia":                "Certificato di stato di famiglia",
			"stato_di_famiglia_e_stato_civile": "Certificato di stato di famiglia e di stato civile",
			"residenza_in_convivenza":          "Certificato di residenza in convivenza",
			"stato_di_famiglia_aire":           "Certificato di stato di famiglia AIRE",
			"stato_di_famiglia_con_parentela":  "Certificato di stato di famiglia con rapporti di parentela",
			"stato_libero":                     "Certificato di stato libero",
			"unione_civile":                    "Certificato di unione civile",
			"contratto_di_convivenza":          "Certificato di contratto di convivenza",
			"morte":                            "Certificato di morte",
			"residenza_storica":                "Certificato storico di residenza",
			"stato_di_famiglia_storico":        "Certificato storico di stato di famiglia",
		},
	},
	English: {
		partitaIVA: "VAT no. (P.IVA)", contrassegno: "Revenue stamp no.",
		operator: "Operator", protocol: "Ref.", total: "TOTAL", exempt: "exempt",
		verify:     "Check this certificate is genuine:",
		privacy:    "Privacy: your personal data is processed by the municipality only to issue the certificate (EU Reg. 2016/679); the full notice is available from the shop.",
		timeLayout: "02/01/2006 15:04", // day first in English too (issue 15): read in Italy, where 03/04 is 3 April
		claimTitle: "CLAIM RECEIPT", notCertificate: "This receipt is not a certificate.",
		claimCode:        "Claim code",
		claimWait:        "The connection to the city is down for now: the certificate will be printed here as soon as it is back, or when you come back with this receipt.",
		copy:             "COPY (COPIA)",
		claimCollectPaid: "You have paid. The certificate will be issued as soon as the connection to the city is back: collect it at this kiosk with the code above and your CIE.",
		claimCollect:     "Nothing has been paid. The certificate will be issued once the city has confirmed your identity: collect it at this kiosk with the code above and your CIE, and pay for it then.",
		claimIdentity: "The connection to the city is down for now, so the city could not yet confirm who you are. " +
			"The certificate will be issued as soon as the city confirms your identity: collect it with this receipt and the code above. " +
			"If the city cannot confirm it, no certificate is issued and what you paid is given back.",
		fees: map[FeeKind]string{
			Bollo: "Stamp duty (bollo)", Exemption: "Stamp duty", Diritti: "Registry fee", Service: "Service fee",
		},
		types: map[string]string{
			"nascita":                          "Birth certificate",
			"matrimonio":                       "Marriage certificate",
			"cittadinanza":                     "Citizenship certificate",
			"esistenza_in_vita":                "Certificate of life",
			"residenza":                        "Certificate of residence",
			"residenza_aire":                   "Certificate of residence (AIRE)",
			"stato_civile":                     "Civil status certificate",
			"stato_di_famiglia":                "Family status certificate",
			"stato_di_famiglia_e_stato_civile": "Family and civil status certificate",
			"residenza_in_convivenza":          "Certificate of residence in a cohabitation",
			"stato_di_famiglia_aire":           "Family status certificate (AIRE)",
			"stato_di_famiglia_con_parentela":  "Family status certificate with relationships",
			"stato_libero":                     "Certificate of unmarried status",
			"unione_civile":                    "Civil union certificate",
			"contratto_di_convivenza":          "Cohabitation agreement certificate",
			"morte":                            "Death certificate",
			"residenza_storica":                "Residence history certificate",
			"stato_di_famiglia_storico":        "Family status certificate on a past date",
		},
	},
}
