package certificate

import (
	"slices"
	"strings"

	"github.com/sportello/sportello/internal/fees"
)

// Use is the destination of use a requester declares for a certificate:
// ANPR's paEstera field of the 6001 certificate request (tipoPaEstera,
// src/wsdl/comuni/tipoDato.xsd in github.com/italia/anpr): 0 ordinary use,
// 2 immigration procedures, 3 court cases, 4 use abroad. The zero Use is
// the ordinary one, under the art. 40 DPR 445/2000 sentence.
type Use string

const (
	UseOrdinary Use = ""
	// UseEstero: "CERTIFICATO RILASCIATO PER L'ESTERO" (paEstera 4). ANPR's
	// paEstera 1, for a foreign public administration, prints no wording
	// of its own, so Sportello offers 4 alone for every use abroad.
	UseEstero Use = "estero"
	// UseImmigrazione: "CERTIFICATO RILASCIATO PER PROCEDIMENTI
	// DISCIPLINATI DALLE NORME SULL'IMMIGRAZIONE" (paEstera 2): a
	// foreigner's procedures, where art. 3 c. 4 DPR 445/2000 keeps
	// certificates in place of self-declarations.
	UseImmigrazione Use = "immigrazione"
	// UseGiudiziario: "AI SENSI DELL'ART. 40, D.P.R. 445/2000 IL PRESENTE
	// CERTIFICATO E' RILASCIATO PER CAUSE GIUDIZIARIE" (paEstera 3): for a
	// court, which is no "organo della pubblica amministrazione" of art.
	// 40 when it judges.
	UseGiudiziario Use = "giudiziario"
)

// Uses lists the declarable uses, the ordinary one first.
func Uses() []Use { return []Use{UseOrdinary, UseEstero, UseImmigrazione, UseGiudiziario} }

// Reason codes of the use checks.
const (
	ReasonUnknownUse = "unknown_use"
	// ReasonUseConflictsExemption: the declared use and the declared
	// bollo exemption (or its absence) cannot go together.
	ReasonUseConflictsExemption = "use_conflicts_exemption"
)

// ParseUse reads a declared use; "" and "ordinario" are the ordinary one.
func ParseUse(s string) (Use, error) {
	u := Use(strings.ToLower(strings.TrimSpace(s)))
	if u == "ordinario" {
		return UseOrdinary, nil
	}
	if slices.Contains(Uses(), u) {
		return u, nil
	}
	return "", refuse(ReasonUnknownUse, "%q is not a destination of use; it must be one of estero, immigrazione, giudiziario, or nothing for the ordinary use.", s)
}

// PaEstera is ANPR's code of the use (tipoPaEstera).
func (u Use) PaEstera() int {
	switch u {
	case UseImmigrazione:
		return 2
	case UseGiudiziario:
		return 3
	case UseEstero:
		return 4
	}
	return 0
}

// Notice is the sentence printed in place of Art40Notice: ANPR's wording
// of the destination of use (tipoPaEstera), written as a sentence. The
// ordinary use keeps Art40Notice.
func (u Use) Notice() string {
	switch u {
	case UseEstero:
		return "Certificato rilasciato per l'estero."
	case UseImmigrazione:
		return "Certificato rilasciato per procedimenti disciplinati dalle norme sull'immigrazione."
	case UseGiudiziario:
		return "Ai sensi dell'art. 40 DPR 445/2000 il presente certificato è rilasciato per cause giudiziarie."
	}
	return Art40Notice
}

// useExemptions are ANPR's constraints between a use and the bollo, with
// Sportello's reading of which table 39 codes fit each use.
var useExemptions = map[Use]struct {
	// exempt: the certificate must be exempt from bollo. ANPR's
	// certificate controls ("Esenzione bolli", every type in
	// src/controllo-certificati of github.com/italia/anpr) refuse paEstera
	// 2 and 3 on a certificate that is not exempt.
	exempt bool
	// codes are the table 39 codes that may go with the use; nil: any.
	codes []int
	why   string
}{
	// A court: the exemptions of proceedings before a judge. 3 uso
	// processuale (art. 18 DPR 115/2002), 4 the court's consultant or the
	// bankruptcy trustee, 5 interdizione/inabilitazione/amministrazione
	// di sostegno, 6 adoption and the juvenile court's custody, 7
	// separation and divorce, 99 another law the requester names. The
	// others exempt an ONLUS's or sports club's papers (1, 2), a street
	// renaming (8), a foreign pension (9) or the exchange between
	// administrations (10), none of them a court case.
	UseGiudiziario: {true, []int{3, 4, 5, 6, 7, fees.OtherReason},
		"a certificate for a court case (uso giudiziario) is issued exempt from bollo under a court proceeding's exemption: code 3, 4, 5, 6, 7, or 99 with the law."},
	// Immigration: ANPR wants it exempt and names no code; the codes of
	// a use that is not an immigration procedure conflict (1, 2, 8, 9 as
	// above; 3, 4, 5 and 7 belong to court cases, declared as giudiziario).
	UseImmigrazione: {true, []int{6, 10, fees.OtherReason},
		"a certificate for an immigration procedure is issued exempt from bollo (ANPR): code 6 (minors), 10 (an administration's request) or 99 with the law."},
	// Abroad: in bollo or exempt. The exemptions of an Italian court's or
	// administration's procedure (3, 4, 5, 7, 8, 10) cannot be for a
	// document used abroad; 6 covers international adoption (art. 82 L.
	// 184/1983 as amended by L. 476/1998), 9 a foreign pension.
	UseEstero: {false, []int{1, 2, 6, 9, fees.OtherReason},
		"a certificate for use abroad may only be exempt from bollo for an ONLUS (1), a sports club (2), an adoption (6), a foreign pension (9) or another law named (99)."},
}

// NeedsExemption reports whether a certificate for use u must be exempt
// from bollo (CheckUse refuses it in bollo): a kiosk then offers no bollo.
func (u Use) NeedsExemption() bool { return useExemptions[u].exempt }

// AllowsExemption reports whether table 39 code goes with use u, as
// CheckUse judges it: a kiosk offers only these codes for the use.
func (u Use) AllowsExemption(code int) bool {
	lim, ok := useExemptions[u]
	return !ok || code == 0 || lim.codes == nil || slices.Contains(lim.codes, code)
}

// CheckUse refuses a use that conflicts with how the bollo is paid: b is
// the computed fee (exempt when its bollo line is 0).
func CheckUse(u Use, b fees.Breakdown) error {
	lim, ok := useExemptions[u]
	if !ok {
		return nil
	}
	exempt := len(b.Lines) > 0 && b.Lines[0].Kind == fees.Bollo && b.Lines[0].Cents == 0
	switch {
	case lim.exempt && !exempt:
		return refuse(ReasonUseConflictsExemption, "%s", lim.why)
	case !u.AllowsExemption(b.Exemption.Code):
		return refuse(ReasonUseConflictsExemption, "exemption code %d does not go with this use: %s", b.Exemption.Code, lim.why)
	}
	return nil
}

// String is the use as the request names it.
func (u Use) String() string {
	if u == UseOrdinary {
		return "ordinario"
	}
	return string(u)
}
