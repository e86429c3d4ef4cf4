package operators

import (
	"math"
	"sort"
	"time"

	"github.com/sportello/sportello/internal/registry"
)

// Point is a position in WGS 84 degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// earthRadius is the mean Earth radius (IUGG), in metres.
const earthRadius = 6371008.8

// Distance is the great-circle distance between a and b in metres, by the
// haversine formula: within a city its error against the ellipsoid is a few
// metres, well under the walk to the shop's door.
func Distance(a, b Point) float64 {
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Query asks the directory for points of service near a place at a time.
type Query struct {
	Near          Point
	At            time.Time
	IncludeClosed bool // also list those closed at At, after the open ones
	Limit         int  // 0: all
	// Exclude is an operator left out: the asking kiosk's own shop, which
	// a citizen standing in it is not sent to.
	Exclude string
}

// Listing is one answer of the directory.
type Listing struct {
	Operator  *Operator
	DistanceM float64
	Open      bool
	Today     Day // the effective hours of At's day in Rome
}

// Listed reports whether o belongs in the public directory: active shops
// and offices. Suspended shops drop out until they are reactivated.
func Listed(o *Operator) bool { return o.Status == Active }

// Nearest lists the listed operators nearest to q.Near, open ones at q.At
// first when closed ones are included, nearer before farther, ties by id.
func Nearest(ops []*Operator, q Query, cal Calendar) []Listing {
	day := registry.DateOf(q.At.In(Rome))
	var out []Listing
	for _, o := range ops {
		if !Listed(o) || (q.Exclude != "" && o.ID == q.Exclude) {
			continue
		}
		open := o.Hours.OpenAt(q.At, cal)
		if !open && !q.IncludeClosed {
			continue
		}
		out = append(out, Listing{Operator: o, DistanceM: Distance(q.Near, o.Address.Point()), Open: open, Today: o.Hours.On(day, cal)})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Open != b.Open {
			return a.Open
		}
		if a.DistanceM != b.DistanceM {
			return a.DistanceM < b.DistanceM
		}
		return a.Operator.ID < b.Operator.ID
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

// FeatureCollection is a GeoJSON (RFC 7946) document of the directory, for
// maps and for kiosks to keep offline.
type FeatureCollection struct {
	Type     string    `json:"type"` // "FeatureCollection"
	Features []Feature `json:"features"`
}

// Feature is one operator as a GeoJSON point.
type Feature struct {
	Type       string          `json:"type"` // "Feature"
	ID         string          `json:"id"`
	Geometry   Geometry        `json:"geometry"`
	Properties FeatureProperty `json:"properties"`
}

// Geometry is a GeoJSON point: longitude first, as RFC 7946 requires.
type Geometry struct {
	Type        string     `json:"type"` // "Point"
	Coordinates [2]float64 `json:"coordinates"`
}

// FeatureProperty is what a map shows for an operator.
type FeatureProperty struct {
	Name     string   `json:"name"`
	Category Category `json:"category"`
	Label    string   `json:"category_label"`
	Address  string   `json:"address"`
	Hours    Hours    `json:"hours"`
	Transit  Transit  `json:"transit"`
	FeeCents *int     `json:"fee_cents,omitempty"`
	Types    []string `json:"certificate_types,omitempty"`
}

// GeoJSON exports the listed operators, in id order.
func GeoJSON(ops []*Operator) FeatureCollection {
	fc := FeatureCollection{Type: "FeatureCollection", Features: []Feature{}}
	sorted := append([]*Operator(nil), ops...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for _, o := range sorted {
		if !Listed(o) {
			continue
		}
		p := FeatureProperty{
			Name: o.DisplayName(), Category: o.Category, Label: o.Category.Label(),
			Address: o.Address.String(), Hours: o.Hours, Transit: o.Transit,
		}
		if a := o.Agreement; a != nil {
			fee := a.FeeCents
			p.FeeCents = &fee
			for _, t := range a.Types {
				p.Types = append(p.Types, string(t))
			}
		}
		fc.Features = append(fc.Features, Feature{
			Type: "Feature", ID: o.ID,
			Geometry:   Geometry{Type: "Point", Coordinates: [2]float64{o.Address.Lon, o.Address.Lat}},
			Properties: p,
		})
	}
	return fc
}
