package admin

import (
	"net/http"
	"sort"
	"strings"

	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
)

type publicEntry struct {
	Op      *operators.Operator
	Label   string
	Open    bool
	Today   string
	Days    []dayHours
	Transit []string
	Fee     string
}

// publicDirectory is the citizens' page: where to get a certificate, when
// each place is open today and in the week, and how to get there.
func (c *Console) publicDirectory(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	ops, err := c.Operators.List()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	now := c.now()
	cal := c.Operators.CurrentPolicy().Calendar
	today := registry.DateOf(now.In(operators.Rome))
	var listed []*operators.Operator
	var entries []publicEntry
	for _, o := range ops {
		if !operators.Listed(o) {
			continue
		}
		listed = append(listed, o)
		e := publicEntry{Op: o, Label: tr(lang, "cat."+string(o.Category)), Open: o.Hours.OpenAt(now, cal)}
		day := o.Hours.On(today, cal)
		e.Today = spansText(day.Spans, lang)
		if day.Why != "" {
			e.Today += " (" + day.Why + ")"
		}
		for _, wd := range weekOrder {
			e.Days = append(e.Days, dayHours{Name: tr(lang, "day."+wd.String()[:3]), Spans: spansText(o.Hours.Week.On(wd), lang)})
		}
		t := o.Transit
		e.Transit = append(append([]string{}, t.Metro...), t.Rail...)
		if o.Agreement != nil {
			e.Fee = euro(int64(o.Agreement.FeeCents))
		}
		entries = append(entries, e)
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].Open != entries[j].Open {
			return entries[i].Open
		}
		return strings.ToLower(entries[i].Op.DisplayName()) < strings.ToLower(entries[j].Op.DisplayName())
	})
	v := c.newView(r, "directory.title")
	v.Public = true
	v.Data = struct {
		Entries []publicEntry
		Map     mapView
	}{entries, buildMap(listed, "", lang, "#", 760, 460)}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Vary", "Cookie")
	c.render(w, r, http.StatusOK, "directory", v)
}
