package operators

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestDistance(t *testing.T) {
	duomo := Point{45.4642, 9.1900}
	tests := []struct {
		name   string
		a, b   Point
		metres float64
		tol    float64
	}{
		{"same point", duomo, duomo, 0, 0.001},
		// One degree of latitude is the meridian arc πR/180.
		{"one degree north", Point{45, 9}, Point{46, 9}, math.Pi * earthRadius / 180, 0.01},
		// Milano Centrale to the Duomo: about 2.7 km as the crow flies.
		{"Centrale to Duomo", Point{45.4861, 9.2044}, duomo, 2670, 150},
		// Milan to Rome (Piazza del Duomo to Piazza Venezia): about 477 km.
		{"Milan to Rome", duomo, Point{41.8960, 12.4823}, 477000, 3000},
	}
	for _, tt := range tests {
		got := Distance(tt.a, tt.b)
		if math.Abs(got-tt.metres) > tt.tol {
			t.Errorf("%s: %.1f m, want %.1f ± %.1f", tt.name, got, tt.metres, tt.tol)
		}
		if back := Distance(tt.b, tt.a); math.Abs(back-got) > 1e-6 {
			t.Errorf("%s: not symmetric: %f vs %f", tt.name, got, back)
		}
	}
}

func directoryFixture(t *testing.T) []*Operator {
	mk := func(id string, lat, lon float64, st Status, h Hours) *Operator {
		o := testOperator(t)
		o.ID, o.Status, o.Hours = id, st, h
		o.Address.Lat, o.Address.Lon = lat, lon
		return o
	}
	shop := shopHours(t)
	var late Hours
	for d := time.Sunday; d <= time.Saturday; d++ {
		late.Week.Set(d, spans(t, "06:00-24:00")...)
	}
	late.OpenOnHolidays = true
	return []*Operator{
		mk("far", 45.50, 9.25, Active, shop),
		mk("near", 45.465, 9.191, Active, shop),
		mk("mid", 45.47, 9.20, Active, late),
		mk("suspended", 45.4643, 9.1901, Suspended, late), // nearest, but not listed
		mk("applied", 45.4643, 9.1901, Applied, late),
	}
}

func TestNearest(t *testing.T) {
	ops := directoryFixture(t)
	duomo := Point{45.4642, 9.1900}
	ids := func(ls []Listing) (out []string) {
		for _, l := range ls {
			out = append(out, l.Operator.ID)
		}
		return out
	}
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"weekday morning", Query{Near: duomo, At: rome("2026-04-07 10:00")}, []string{"near", "mid", "far"}},
		{"from the far end", Query{Near: Point{45.51, 9.26}, At: rome("2026-04-07 10:00")}, []string{"far", "mid", "near"}},
		{"limit", Query{Near: duomo, At: rome("2026-04-07 10:00"), Limit: 2}, []string{"near", "mid"}},
		{"evening: only the late one", Query{Near: duomo, At: rome("2026-04-07 21:00")}, []string{"mid"}},
		{"Easter Monday", Query{Near: duomo, At: rome("2026-04-06 10:00")}, []string{"mid"}},
		{"closed ones after open ones", Query{Near: duomo, At: rome("2026-04-07 21:00"), IncludeClosed: true}, []string{"mid", "near", "far"}},
	}
	for _, tt := range tests {
		got := ids(Nearest(ops, tt.q, Milan))
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
				break
			}
		}
	}
	ls := Nearest(ops, Query{Near: duomo, At: rome("2026-04-06 21:00"), IncludeClosed: true}, Milan)
	for _, l := range ls {
		if l.Operator.ID == "near" && (l.Open || l.Today.Why != "Lunedì dell'Angelo" || len(l.Today.Spans) != 0) {
			t.Errorf("holiday listing %+v", l)
		}
	}
}

func TestGeoJSON(t *testing.T) {
	fc := GeoJSON(directoryFixture(t))
	if len(fc.Features) != 3 {
		t.Fatalf("%d features, want the 3 active operators", len(fc.Features))
	}
	b, err := json.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Type     string
		Features []struct {
			Type     string
			ID       string
			Geometry struct {
				Type        string
				Coordinates []float64
			}
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Type != "FeatureCollection" {
		t.Errorf("type %q", doc.Type)
	}
	f := doc.Features[0]
	if f.ID != "far" || f.Type != "Feature" || f.Geometry.Type != "Point" || f.Geometry.Coordinates[0] != 9.25 || f.Geometry.Coordinates[1] != 45.50 {
		t.Errorf("first feature %+v: want id order and [lon, lat]", f)
	}
	if f.Properties["fee_cents"] != float64(200) || f.Properties["category"] != "edicola" {
		t.Errorf("properties %v", f.Properties)
	}
}
