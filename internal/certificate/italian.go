package certificate

import "strings"

// DatedArticle puts an Italian article or articulated preposition before a
// date printed "dd/mm/yyyy", eliding it where the day is read with an
// initial vowel — "otto" and "undici" — as registry offices write: "il
// 17/02/1950" but "l'11/08/1985", "del 23/11" but "dell'08/11". prep is
// "il" or a preposition articulated with it: "del", "dal", "al", "nel".
func DatedArticle(prep, date string) string {
	if strings.HasPrefix(date, "08/") || strings.HasPrefix(date, "8/") || strings.HasPrefix(date, "11/") {
		if prep == "il" {
			return "l'" + date
		}
		return prep + "l'" + date
	}
	return prep + " " + date
}
