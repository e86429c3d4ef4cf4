package receipt

import "time"

// Demo is a receipt with every kind of line and accented text, for
// `kiosk printer test` and for tests.
func Demo(at time.Time, lang Lang) Receipt {
	return Receipt{
		Shop:       "Edicola Città Studi",
		LegalName:  "Rossi Giornali S.n.c.",
		Address:    "Piazza Leonardo da Vinci 32, Milano",
		PartitaIVA: "01234567897",
		OperatorID: "OP-0042",
		Time:       at,
		Certificates: []Certificate{
			{Type: "residenza", Protocol: "2026/000123"},
			{Type: "stato_di_famiglia", Protocol: "2026/000124"},
		},
		Fees: []Fee{
			{Kind: Bollo, Cents: 1600},
			{Kind: Exemption, Code: "Art. 8 Tab. B DPR 642/1972 - atti per l'autorità giudiziaria"},
			{Kind: Diritti, Cents: 52},
			{Kind: Service, Cents: 200},
		},
		TotalCents: 1852,
		VerifyURL:  "https://hub.example.it/v/8Q2R4M7XKZ",
		Lang:       lang,
	}
}
