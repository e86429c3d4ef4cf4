package opendata

import (
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// Handler serves the public open-data pages: /opendata/ (the listing),
// /opendata/schema.json and /opendata/YYYY-MM/NAME.csv|json for each
// complete month of the last Months.
type Handler struct {
	Store store.Store
	Now   func() time.Time
	Log   *slog.Logger
	// Months is how many complete months the listing offers (12 when
	// zero).
	Months int
}

// months are the complete months listed, newest first.
func (h *Handler) months() []string {
	n := h.Months
	if n <= 0 {
		n = 12
	}
	r := h.Now().In(protocol.Rome)
	first := time.Date(r.Year(), r.Month(), 1, 0, 0, 0, 0, protocol.Rome)
	out := make([]string, n)
	for i := range n {
		out[i] = first.AddDate(0, -(i + 1), 0).Format("2006-01")
	}
	return out
}

var listing = template.Must(template.New("opendata").Parse(`<!doctype html>
<html lang="it"><head><meta charset="utf-8"><title>Dati aperti dell'anagrafe</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>
<h1>Dati aperti dell'anagrafe</h1>
<p>Statistiche mensili dei certificati rilasciati, degli appuntamenti prenotati e delle pratiche anagrafiche presentate (con il loro esito), per zona (CAP di residenza), canale e tipo.
I numeri inferiori a {{.Min}} sono oscurati (campo <code>suppressed</code>) perché nessuna persona sia riconoscibile.
Struttura dei file: <a href="schema.json">schema.json</a> (Frictionless Table Schema).</p>
<table><thead><tr><th>Mese</th>{{range .Datasets}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range $m := .Months}}<tr><td>{{$m}}</td>{{range $.Datasets}}<td><a href="{{$m}}/{{.}}.csv">CSV</a> · <a href="{{$m}}/{{.}}.json">JSON</a></td>{{end}}</tr>
{{end}}</tbody></table>
</main></body></html>
`))

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "only GET", http.StatusMethodNotAllowed)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/opendata/")
	switch {
	case r.URL.Path == "/opendata":
		http.Redirect(w, r, "/opendata/", http.StatusMovedPermanently)
	case rest == "":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		listing.Execute(w, map[string]any{"Min": MinCount, "Datasets": Datasets, "Months": h.months()})
	case rest == "schema.json":
		w.Header().Set("Content-Type", "application/schema+json")
		w.Write(TableSchema().JSON())
	default:
		h.file(w, r, rest)
	}
}

// file serves MONTH/NAME.EXT for a listed month.
func (h *Handler) file(w http.ResponseWriter, r *http.Request, rest string) {
	month, file, ok := strings.Cut(rest, "/")
	name, ext, ok2 := strings.Cut(file, ".")
	listed := slices.Contains(h.months(), month)
	if !ok || !ok2 || !listed || (ext != "csv" && ext != "json") || !slices.Contains(Datasets, name) {
		http.Error(w, "Non esiste: i file pubblicati sono elencati in /opendata/.", http.StatusNotFound)
		return
	}
	start, err := Month(month)
	if err == nil {
		var rows []Row
		if rows, err = Dataset(r.Context(), h.Store, name, start); err == nil {
			if ext == "csv" {
				w.Header().Set("Content-Type", "text/csv; charset=utf-8")
				w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%s-%s.csv", name, month))
				w.Write(CSV(rows))
			} else {
				w.Header().Set("Content-Type", "application/json")
				w.Write(JSON(rows))
			}
			return
		}
	}
	if h.Log != nil {
		h.Log.Error("open data could not be computed", "path", r.URL.Path, "err", err)
	}
	http.Error(w, "I dati non sono disponibili in questo momento: riprovi più tardi.", http.StatusServiceUnavailable)
}
