package registry

import "cmp"

// CompareMembers is the order of Reader.Members and FamilyHistory: the
// head of the family first (the intestatario scheda heads the stato di
// famiglia), then by relationship code (ANPR table 5), then birth date,
// then ID. Every Store sorts with it so that certificates list a family
// alike on every backend.
func CompareMembers(a, b *Person) int {
	if (a.Relationship == Head) != (b.Relationship == Head) {
		if a.Relationship == Head {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(a.Relationship, b.Relationship); c != 0 {
		return c
	}
	if a.BirthDate != b.BirthDate {
		if a.BirthDate.Before(b.BirthDate) {
			return -1
		}
		return 1
	}
	return cmp.Compare(a.ID, b.ID)
}

// CompareEvents is the order of Reader.EventsOf: oldest first, then by ID.
func CompareEvents(a, b *Event) int {
	if a.Date != b.Date {
		if a.Date.Before(b.Date) {
			return -1
		}
		return 1
	}
	return cmp.Compare(a.ID, b.ID)
}
