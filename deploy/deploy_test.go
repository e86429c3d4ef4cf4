// Package deploy holds what a city copies into its monitoring: the
// Prometheus scrape configuration and alert rules, and the Grafana
// dashboard. Its tests check them with promtool and against
// docs/metrics.md.
package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/metricsdoc"
)

// metricName finds the hub's metric names in a PromQL expression.
var metricName = regexp.MustCompile(`\bsportello_[a-z0-9_]+\b`)

func documented(t *testing.T) map[string]bool {
	t.Helper()
	ms, err := metricsdoc.Load()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range ms {
		out[m.Name] = true
	}
	return out
}

// promtool is Debian's prometheus package's, which make deps installs; in
// CI a missing promtool is a failure, not a skip.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found: install Debian's prometheus package (make deps)")
		}
		t.Skip("promtool not found: install Debian's prometheus package (make deps)")
	}
	return p
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

// The alert rules pass promtool check rules and their unit tests
// (alerts_test.yml: each alert fires when it should and not otherwise),
// the scrape configuration passes promtool check config, and every metric
// the rules use is one docs/metrics.md lists.
func TestPrometheusRules(t *testing.T) {
	tool := promtool(t)
	// The configuration names the city's token and CA files under
	// /etc/prometheus; promtool checks they exist, so the copy checked
	// here names files made in a temporary directory.
	dir := t.TempDir()
	for _, f := range []string{"alerts.yml", "alerts_test.yml", "prometheus.yml"} {
		b, err := os.ReadFile(filepath.Join("prometheus", f))
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.ReplaceAll(string(b), "/etc/prometheus/", dir+"/"))
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"sportello-metrics-token", "sportello-hub-ca.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("placeholder\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run(t, dir, tool, "check", "rules", "alerts.yml")
	run(t, dir, tool, "test", "rules", "alerts_test.yml")
	run(t, dir, tool, "check", "config", "prometheus.yml")

	b, err := os.ReadFile(filepath.Join("prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := documented(t)
	for _, name := range metricName.FindAllString(string(b), -1) {
		if !docs[name] {
			t.Errorf("alerts.yml uses %s, which docs/metrics.md does not list", name)
		}
	}
	// Every alert is in the documentation's table, and every alert of
	// the table is in the rules.
	doc, err := os.ReadFile(metricsdoc.Path())
	if err != nil {
		t.Fatal(err)
	}
	inRules := regexp.MustCompile(`(?m)^\s*- alert: (\S+)`).FindAllStringSubmatch(string(b), -1)
	inDocs := regexp.MustCompile("(?m)^\\| `(Sportello[A-Za-z]+)` \\|").FindAllStringSubmatch(string(doc), -1)
	var rules, listed []string
	for _, m := range inRules {
		rules = append(rules, m[1])
	}
	for _, m := range inDocs {
		listed = append(listed, m[1])
	}
	slices.Sort(rules)
	slices.Sort(listed)
	if len(rules) == 0 || !slices.Equal(rules, listed) {
		t.Errorf("alerts.yml has %v; docs/metrics.md lists %v", rules, listed)
	}
}

type dashboard struct {
	Title  string  `json:"title"`
	UID    string  `json:"uid"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID      int    `json:"id"`
	Title   string `json:"title"`
	Type    string `json:"type"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

// The dashboard is valid JSON; every panel has a title and queries; every
// query names metrics docs/metrics.md lists (or Prometheus's own up); and
// every documented metric shows on some panel.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("grafana", "sportello.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("grafana/sportello.json is not valid JSON: %v", err)
	}
	if !json.Valid(b) {
		t.Fatal("grafana/sportello.json is not valid JSON")
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("dashboard without title, uid or panels: %+v", d)
	}
	docs := documented(t)
	shown := map[string]bool{}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if p.Title == "" || len(p.Targets) == 0 || ids[p.ID] {
			t.Errorf("panel %d %q: a title, queries and an id of its own are needed", p.ID, p.Title)
		}
		ids[p.ID] = true
		for _, q := range p.Targets {
			names := metricName.FindAllString(q.Expr, -1)
			if len(names) == 0 && !strings.Contains(q.Expr, "up{") {
				t.Errorf("panel %q, query %s: names no metric of the hub: %s", p.Title, q.RefID, q.Expr)
			}
			for _, n := range names {
				if !docs[n] {
					t.Errorf("panel %q, query %s: %s is not in docs/metrics.md", p.Title, q.RefID, n)
				}
				shown[n] = true
			}
		}
	}
	for n := range docs {
		if !shown[n] {
			t.Errorf("%s is documented but on no panel of the dashboard", n)
		}
	}
}
