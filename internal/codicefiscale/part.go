package codicefiscale

// PartOf names the part of a codice fiscale that position pos (1-based)
// belongs to — "surname" 1–3, "name" 4–6, "year" 7–8, "month" 9, "day"
// 10–11 (the day, plus 40 for a woman), "place" 12–15 (the Belfiore code),
// "check" 16 — as DM 23/12/1976 lays the code out. The kiosk and the
// console each key their sentence for a wrong character by it.
func PartOf(pos int) string {
	switch {
	case pos <= 3:
		return "surname"
	case pos <= 6:
		return "name"
	case pos <= 8:
		return "year"
	case pos == 9:
		return "month"
	case pos <= 11:
		return "day"
	case pos <= 15:
		return "place"
	}
	return "check"
}
