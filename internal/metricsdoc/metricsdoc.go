// Package metricsdoc reads docs/metrics.md, the list of the metrics the
// hub exposes on /metrics, so tests can hold the list, the hub, the alert
// rules and the Grafana dashboard to one another.
package metricsdoc

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
)

// Metric is one row of the table: a metric family.
type Metric struct {
	Name    string
	Type    string   // counter or gauge
	Labels  []string // sorted; none for a metric without labels
	Meaning string
}

// row is a table row naming a metric: | `name` | type | labels | meaning |
var row = regexp.MustCompile("^\\|\\s*`(sportello_[a-z0-9_]+)`\\s*\\|([^|]*)\\|([^|]*)\\|(.*)\\|\\s*$")

// labelName is a label as the labels column spells it, in backquotes.
var labelName = regexp.MustCompile("`([a-zA-Z_][a-zA-Z0-9_]*)`")

// Parse reads the metrics from the table rows of r. A metric listed twice,
// a type other than counter or gauge, or a row without a meaning is an
// error: the document is what operators read.
func Parse(r io.Reader) ([]Metric, error) {
	var out []Metric
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		mt := Metric{Name: m[1], Type: strings.TrimSpace(m[2]), Meaning: strings.TrimSpace(m[4])}
		for _, l := range labelName.FindAllStringSubmatch(m[3], -1) {
			mt.Labels = append(mt.Labels, l[1])
		}
		slices.Sort(mt.Labels)
		switch {
		case seen[mt.Name]:
			return nil, fmt.Errorf("line %d: %s is listed twice", line, mt.Name)
		case mt.Type != "counter" && mt.Type != "gauge":
			return nil, fmt.Errorf("line %d: %s has type %q; want counter or gauge", line, mt.Name, mt.Type)
		case mt.Meaning == "":
			return nil, fmt.Errorf("line %d: %s says nothing of its meaning", line, mt.Name)
		}
		seen[mt.Name] = true
		out = append(out, mt)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no metric in the table")
	}
	return out, nil
}

// Path is docs/metrics.md of the source tree this package was built from:
// for tests, which run inside the tree.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "metrics.md")
}

// Load parses the file at Path.
func Load() ([]Metric, error) {
	f, err := os.Open(Path())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ms, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Path(), err)
	}
	return ms, nil
}

// Exposed reads the metric families of a Prometheus text exposition: each
// family's type from its TYPE line and the label names its samples carry.
func Exposed(text string) (map[string]Metric, error) {
	out := map[string]Metric{}
	for i, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Fields(line)
			if len(f) != 4 {
				return nil, fmt.Errorf("line %d: bad TYPE line %q", i+1, line)
			}
			out[f[2]] = Metric{Name: f[2], Type: f[3]}
		case line == "" || strings.HasPrefix(line, "#"):
		default:
			name, rest, _ := strings.Cut(line, " ")
			var labels []string
			if n, ls, ok := strings.Cut(name, "{"); ok {
				name = n
				// Label values here are codes and ids: no comma or
				// brace inside the quotes.
				ls, _, _ = strings.Cut(ls+" "+rest, "}")
				for _, kv := range strings.Split(ls, ",") {
					k, _, _ := strings.Cut(kv, "=")
					labels = append(labels, k)
				}
			}
			m, ok := out[name]
			if !ok {
				return nil, fmt.Errorf("line %d: sample of %s before its TYPE line", i+1, name)
			}
			for _, l := range labels {
				if !slices.Contains(m.Labels, l) {
					m.Labels = append(m.Labels, l)
				}
			}
			slices.Sort(m.Labels)
			out[name] = m
		}
	}
	return out, nil
}
