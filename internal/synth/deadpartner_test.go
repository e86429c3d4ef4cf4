package synth

import "testing"

// TestDeadPartnerNeverLivesAfterDeath: a partner who died before the
// household settled at its address (an AIRE famiglia's partner, above all)
// once got a residence and a membership starting after the death, which the
// registry refuses, so `hub seed` of a large city failed half-way.
func TestDeadPartnerNeverLivesAfterDeath(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a city of 1,400,000, the size where it showed")
	}
	bad := 0
	err := Generate(Config{Persons: benchPersons, Seed: 1, Today: benchToday, BatchPersons: 5000}, func(b *Batch) error {
		for _, p := range b.Persons {
			for _, r := range p.Residences {
				if !r.To.IsZero() && r.To.Before(r.From) {
					bad++
					if bad < 4 {
						t.Errorf("%s: residence from %s ends %s", p.CF, r.From, r.To)
					}
				}
			}
			if err := p.Validate(); err != nil && bad < 4 {
				bad++
				t.Errorf("%v", err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
