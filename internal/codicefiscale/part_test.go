package codicefiscale

import "testing"

func TestPartOf(t *testing.T) {
	// RSSMRA80A01F205X: RSS surname, MRA name, 80 year, A month, 01 day,
	// F205 place, X check.
	want := []string{"surname", "surname", "surname", "name", "name", "name", "year", "year", "month", "day", "day",
		"place", "place", "place", "place", "check"}
	for i, w := range want {
		if got := PartOf(i + 1); got != w {
			t.Errorf("PartOf(%d) = %q, want %q", i+1, got, w)
		}
	}
}
