package admin

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"sort"
	"strings"

	"github.com/sportello/sportello/internal/operators"
)

// The map and charts are drawn here as SVG, in the page: no tiles or
// scripts from the internet, and a screen reader gets the table beside each.

type mapView struct {
	SVG    template.HTML
	Points []mapPoint
}

type mapPoint struct {
	ID, Name, Label, Address string
	Status                   operators.Status
	Office                   bool
	X, Y                     float64
}

// buildMap projects the operators' coordinates (equirectangular, with the
// longitude scaled by the cosine of the mean latitude: within a city the
// distortion is far below a marker's size) into a w×h box. Revoked
// operators are left out; highlight draws one operator larger.
func buildMap(ops []*operators.Operator, highlight, lang, linkPrefix string, w, h float64) mapView {
	var pts []mapPoint
	for _, o := range ops {
		if o.Status == operators.Revoked {
			continue
		}
		pts = append(pts, mapPoint{ID: o.ID, Name: o.DisplayName(), Label: tr(lang, "cat."+string(o.Category)), Address: o.Address.String(),
			Status: o.Status, Office: o.Category == operators.RegistryOffice, X: o.Address.Lon, Y: o.Address.Lat})
	}
	if len(pts) == 0 {
		return mapView{}
	}
	minLat, maxLat, minLon, maxLon := pts[0].Y, pts[0].Y, pts[0].X, pts[0].X
	for _, p := range pts {
		minLat, maxLat = math.Min(minLat, p.Y), math.Max(maxLat, p.Y)
		minLon, maxLon = math.Min(minLon, p.X), math.Max(maxLon, p.X)
	}
	k := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	spanX := math.Max((maxLon-minLon)*k, 0.01)
	spanY := math.Max(maxLat-minLat, 0.01)
	pad := 40.0
	scale := math.Min((w-2*pad)/spanX, (h-2*pad)/spanY)
	offX := (w - spanX*scale) / 2
	offY := (h - spanY*scale) / 2
	for i := range pts {
		pts[i].X = offX + (pts[i].X-minLon)*k*scale
		pts[i].Y = h - offY - (pts[i].Y-minLat)*scale
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].ID < pts[j].ID })

	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="map" viewBox="0 0 %g %g" role="img" aria-labelledby="map-title map-desc" xmlns="http://www.w3.org/2000/svg">`, w, h)
	fmt.Fprintf(&b, `<title id="map-title">%s</title><desc id="map-desc">%s</desc>`, esc(tr(lang, "map.title")), esc(fmt.Sprintf(tr(lang, "map.desc"), len(pts))))
	fmt.Fprintf(&b, `<rect class="map-bg" x="0" y="0" width="%g" height="%g"/>`, w, h)
	// A grid every kilometre gives the distances a scale.
	step := scale / 111.32 // pixels per km of latitude
	for y := h - offY; y > 0; y -= step {
		fmt.Fprintf(&b, `<line class="map-grid" x1="0" y1="%.1f" x2="%g" y2="%.1f"/>`, y, w, y)
	}
	for x := offX; x < w; x += step {
		fmt.Fprintf(&b, `<line class="map-grid" x1="%.1f" y1="0" x2="%.1f" y2="%g"/>`, x, x, h)
	}
	fmt.Fprintf(&b, `<g class="map-scale"><line x1="12" y1="%g" x2="%.1f" y2="%g"/><text x="12" y="%g">1 km</text></g>`, h-12, 12+step, h-12, h-18)
	for _, p := range pts {
		cls := "pt st-" + string(p.Status)
		r := 7.0
		if p.ID == highlight {
			cls += " hl"
			r = 11
		}
		title := esc(p.Name + " — " + p.Label + ", " + p.Address)
		if linkPrefix != "" {
			fmt.Fprintf(&b, `<a href="%s%s">`, esc(linkPrefix), esc(p.ID))
		}
		if p.Office {
			fmt.Fprintf(&b, `<rect class="%s office" x="%.1f" y="%.1f" width="%g" height="%g"><title>%s</title></rect>`, cls, p.X-r, p.Y-r, 2*r, 2*r, title)
		} else {
			fmt.Fprintf(&b, `<circle class="%s" cx="%.1f" cy="%.1f" r="%g"><title>%s</title></circle>`, cls, p.X, p.Y, r, title)
		}
		// Labels near the right edge go to the left of their marker.
		if p.X > w*0.7 {
			fmt.Fprintf(&b, `<text class="pt-label" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, p.X-r-3, p.Y+4, esc(p.Name))
		} else {
			fmt.Fprintf(&b, `<text class="pt-label" x="%.1f" y="%.1f">%s</text>`, p.X+r+3, p.Y+4, esc(p.Name))
		}
		if linkPrefix != "" {
			b.WriteString(`</a>`)
		}
	}
	b.WriteString(`</svg>`)
	return mapView{SVG: template.HTML(b.String()), Points: pts}
}

// series is one coloured part of a chart.
type series struct {
	Name   string
	Class  string
	Values []int
}

// barChart draws vertical stacked bars, one per label, with a y axis.
func barChart(title string, labels []string, ss []series, w, h float64) template.HTML {
	peak := 1
	for i := range labels {
		t := 0
		for _, s := range ss {
			t += s.Values[i]
		}
		peak = max(peak, t)
	}
	esc := template.HTMLEscapeString
	left, bottom, top := 36.0, 28.0, 10.0
	plotH := h - bottom - top
	bw := (w - left - 8) / float64(max(1, len(labels)))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, h, esc(title))
	for _, tick := range ticks(peak) {
		y := top + plotH - float64(tick)/float64(peak)*plotH
		fmt.Fprintf(&b, `<line class="grid" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/><text class="tick" x="%g" y="%.1f" text-anchor="end">%d</text>`, left, y, w-4, y, left-4, y+4, tick)
	}
	for i, l := range labels {
		x := left + float64(i)*bw
		y := top + plotH
		var parts []string
		for _, s := range ss {
			v := s.Values[i]
			if v == 0 {
				continue
			}
			hh := float64(v) / float64(peak) * plotH
			y -= hh
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, s.Class, x+1, y, math.Max(bw-2, 1), hh)
			parts = append(parts, fmt.Sprintf("%s %d", s.Name, v))
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, `<rect class="hit" x="%.1f" y="%g" width="%.1f" height="%.1f"><title>%s: %s</title></rect>`, x, top, bw, plotH, esc(l), esc(strings.Join(parts, ", ")))
		}
		if len(labels) <= 12 || i%max(1, len(labels)/10) == 0 {
			fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%g" text-anchor="middle">%s</text>`, x+bw/2, h-10, esc(l))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// hbarChart draws horizontal bars with their labels and values.
func hbarChart(title string, labels []string, values []int, w float64) template.HTML {
	peak := 1
	for _, v := range values {
		peak = max(peak, v)
	}
	esc := template.HTMLEscapeString
	row, left := 22.0, 220.0
	h := row*float64(len(labels)) + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, h, esc(title))
	for i, l := range labels {
		y := 4 + float64(i)*row
		bw := float64(values[i]) / float64(peak) * (w - left - 50)
		fmt.Fprintf(&b, `<text class="tick" x="%g" y="%.1f" text-anchor="end">%s</text>`, left-6, y+14, esc(l))
		fmt.Fprintf(&b, `<rect class="s0" x="%g" y="%.1f" width="%.1f" height="%g"><title>%s: %d</title></rect>`, left, y+3, math.Max(bw, 1), row-6, esc(l), values[i])
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f">%d</text>`, left+bw+4, y+14, values[i])
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// ticks returns up to five round values from 0 to peak.
func ticks(peak int) []int {
	step := 1
	for _, s := range []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000} {
		step = s
		if peak/s <= 5 {
			break
		}
	}
	var out []int
	for t := 0; t <= peak; t += step {
		out = append(out, t)
	}
	return out
}

func (c *Console) mapPage(w http.ResponseWriter, r *http.Request) {
	ops, err := c.Operators.List()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := c.newView(r, "nav.map")
	m := buildMap(ops, "", v.Lang, "/admin/operators/", 900, 560)
	v.Data = m
	c.render(w, r, http.StatusOK, "map", v)
}
