package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/debtest"
)

func TestCityCommands(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"show, no registry", []string{"city", "show", "--data", data}, 1, "", "no registry"},
		{"set cap", []string{"city", "set", "--data", data, "--fee-cap", "150", "--by", "m.bianchi"}, 0, "fee cap: 2,00 EUR → 1,50 EUR", ""},
		{"show", []string{"city", "show", "--data", data}, 0, "fee cap 150 cents (1,50 EUR) offline", ""},
		{"defaults marked", []string{"city", "show", "--data", data}, 0, "Sant'Ambrogio (default)", ""},
		{"offline defaults", []string{"city", "show", "--data", data}, 0, "offline cap per sale 5000 cents (50,00 EUR) (default) offline total cap 50000 cents (500,00 EUR) (default) offline sales 100 (default) offline age limit 24 hours (default)", ""},
		{"offline limits", []string{"city", "set", "--data", data, "--offline-sale-cap", "2500", "--offline-hours", "12", "--by", "m.bianchi"}, 0, "offline cap per sale: 50,00 EUR → 25,00 EUR offline age limit: 24 h → 12 h", ""},
		{"offline shown", []string{"city", "show", "--data", data}, 0, "offline cap per sale 2500 cents (25,00 EUR) offline total cap 50000 cents (500,00 EUR) (default)", ""},
		{"offline sale cap over the total", []string{"city", "set", "--data", data, "--offline-sale-cap", "60000", "--by", "x"}, 1, "", "above the offline total cap"},
		{"offline count zero", []string{"city", "set", "--data", data, "--offline-count", "0", "--by", "x"}, 1, "", "must be positive"},
		{"limits", []string{"city", "set", "--data", data, "--limit-device-rate", "5", "--limit-flood-suspend", "30", "--by", "m.bianchi"}, 0, "limit device-rate: 20 → 5 limit flood-suspend: 50 → 30", ""},
		{"limits shown", []string{"city", "show", "--data", data}, 0, "limit device-rate 5 limit clerk-rate 20 (default)", ""},
		{"limit suspension below its alert", []string{"city", "set", "--data", data, "--limit-flood-alert", "40", "--by", "x"}, 1, "", "flood-suspend (30) must be above flood-alert (40)"},
		{"history", []string{"city", "show", "--data", data}, 0, "by " + me(t) + " (--by m.bianchi): fee cap: 2,00 EUR → 1,50 EUR", ""},
		{"office, address, patron saint, URL", []string{"city", "set", "--data", data, "--office", "Anagrafe centrale", "--address", "Via Larga 12, Milano",
			"--patron-saint", "06-24 San Giovanni", "--public-url", "https://certificati.example.it/", "--by", "m.bianchi"}, 0, "patron saint: 12-07 Sant'Ambrogio → 06-24 San Giovanni", ""},
		{"shown", []string{"city", "show", "--data", data}, 0, "public URL https://certificati.example.it fee cap", ""},
		{"same value", []string{"city", "set", "--data", data, "--fee-cap", "150", "--by", "x"}, 1, "", "already hold"},
		{"nothing", []string{"city", "set", "--data", data, "--by", "x"}, 2, "", "at least one setting"},
		{"bad day", []string{"city", "set", "--data", data, "--patron-saint", "02-30", "--by", "x"}, 2, "", "MM-DD"},
		{"cap zero", []string{"city", "set", "--data", data, "--fee-cap", "0", "--by", "x"}, 1, "", "between 0,01"},
		{"unknown comune", []string{"city", "set", "--data", data, "--comune", "Z999", "--by", "x"}, 1, "", "Z999"},
		{"bad URL", []string{"city", "set", "--data", data, "--public-url", "certificati", "--by", "x"}, 1, "", "not a public URL"},
		{"diritti defaults", []string{"city", "show", "--data", data}, 0, "diritti counter (in bollo/exempt) 0,52/0,26 EUR (default) diritti self_service (in bollo/exempt) 0,52/0,26 EUR (default)", ""},
		{"diritti", []string{"city", "set", "--data", data, "--diritti-counter", "0,60/0,30", "--diritti-self-service", "0", "--by", "m.bianchi"}, 0,
			"diritti counter: 0,52/0,26 EUR → 0,60/0,30 EUR diritti self_service: 0,52/0,26 EUR → 0,00/0,00 EUR", ""},
		{"diritti shown", []string{"city", "show", "--data", data}, 0, "diritti counter (in bollo/exempt) 0,60/0,30 EUR diritti self_service (in bollo/exempt) 0,00/0,00 EUR diritti office (in bollo/exempt) 0,52/0,26 EUR (default)", ""},
		{"no diritti at the office", []string{"city", "set", "--data", data, "--diritti-office", "0", "--by", "x"}, 1, "", "only the self-service kiosk may charge no diritti"},
		{"diritti malformed", []string{"city", "set", "--data", data, "--diritti-counter", "0,60", "--by", "x"}, 2, "", "--diritti-counter: \"0,60\" is not diritti as IN-BOLLO/EXEMPT"},
		{"officer and register", []string{"city", "set", "--data", data, "--officer", "Maria Rossi", "--delegation", "decreto sindacale n. 12 del 03/02/2025",
			"--seal-rule", "art. 20 D.Lgs. 82/2005", "--ipa-code", "c_f205", "--aoo-code", "A1B2C3D", "--register-code", "CERT", "--by", "m.bianchi"}, 0,
			"officer: (none) → Maria Rossi delegation: (none) → decreto sindacale n. 12 del 03/02/2025 seal rule: (none) → art. 20 D.Lgs. 82/2005 IPA code: (none) → c_f205 AOO code: (none) → A1B2C3D register code: (none) → CERT", ""},
		{"officer shown", []string{"city", "show", "--data", data}, 0, "officer Maria Rossi delegation decreto sindacale n. 12 del 03/02/2025 seal rule art. 20 D.Lgs. 82/2005 IPA code c_f205 AOO code A1B2C3D register code CERT", ""},
		{"bad IPA code", []string{"city", "set", "--data", data, "--ipa-code", "comune di milano", "--by", "x"}, 1, "", "not an Indice PA code such as c_f205"},
		{"bad register code", []string{"city", "set", "--data", data, "--register-code", "REG/1", "--by", "x"}, 1, "", "not a register code"},
	}
	for _, tt := range tests {
		r := hub(t, tt.args...)
		// Columns widen with the longest label: compare words, not spaces.
		if r.code != tt.code || !strings.Contains(words(r.stdout), tt.stdout) || !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tt.name, r.code, tt.code, r.stdout, r.stderr)
		}
		if tt.code != 0 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
			t.Errorf("%s: error is not one clear sentence:\n%s", tt.name, r.stderr)
		}
	}
}

// TestCityThroughRunningHub changes the cap while the hub serves: a cap
// below the demo shops' fees is refused naming them, and a raised cap lets
// the running hub accept an agreement it refused before.
func TestCityThroughRunningHub(t *testing.T) {
	data := t.TempDir()
	startHub(t, data, "127.0.0.1:0")
	r := hub(t, "city", "set", "--data", data, "--fee-cap", "120", "--by", "m.bianchi")
	if r.code != 1 || !strings.Contains(r.stderr, "op-0001 Edicola Loreto (2,00 EUR)") || !strings.Contains(r.stderr, "op-0002 Tabacchi Porta Romana (1,50 EUR)") ||
		strings.Contains(r.stderr, "op-0003") {
		t.Errorf("cap below the demo shops' fees: exit %d: %s", r.code, r.stderr)
	}
	add := []string{"operator", "add", "--data", data, "--name", "Edicola Rossi", "--piva", "01199250158", "--category", "edicola",
		"--street", "Corso Buenos Aires", "--number", "33", "--cap", "20124", "--lat", "45.4781", "--lon", "9.2096",
		"--signed", "2026-01-15", "--expires", "2099-01-14", "--fee-cents", "250", "--types", "residenza", "--by", "m.bianchi"}
	if r := hub(t, add...); r.code != 1 || !strings.Contains(r.stderr, "cap") {
		t.Fatalf("a fee of 2.50 under the default cap: exit %d: %s", r.code, r.stderr)
	}
	if r := hub(t, "city", "set", "--data", data, "--fee-cap", "250", "--by", "m.bianchi"); r.code != 0 {
		t.Fatalf("raising the cap: exit %d: %s", r.code, r.stderr)
	}
	if r := hub(t, add...); r.code != 0 {
		t.Errorf("a fee of 2.50 under the raised cap: exit %d: %s", r.code, r.stderr)
	}
	if r := hub(t, "city", "show", "--data", data); !strings.Contains(words(r.stdout), "fee cap 250 cents") || !strings.Contains(r.stdout, "https://127.0.0.1:") {
		t.Errorf("city show through the hub:\n%s%s", r.stdout, r.stderr)
	}
}

// words is s with every run of white space one space.
func words(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestBirthMarriageExemptSetting: a nascita is in bollo by default, as ANPR
// issues it; a city that turns the exemption on issues it free of bollo and
// diritti.
func TestBirthMarriageExemptSetting(t *testing.T) {
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "50"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	cf := strings.Fields(hub(t, "person", "list", "--data", data, "--limit", "1").stdout)[0]
	issue := func(out string) string {
		r := hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "nascita", "--out", filepath.Join(t.TempDir(), out))
		if r.code != 0 {
			t.Fatalf("issue: %s", r.stderr)
		}
		return r.stdout
	}
	if got := issue("a.pdf"); !strings.Contains(got, "total 16,52 EUR") {
		t.Errorf("by default: %s", got)
	}
	if r := hub(t, "city", "set", "--data", data, "--birth-marriage-exempt", "on", "--by", "m.bianchi"); r.code != 0 || !strings.Contains(r.stdout, "off → on") {
		t.Fatalf("set: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := hub(t, "city", "show", "--data", data); !strings.Contains(words(r.stdout), "birth, marriage and civil union exemption on") {
		t.Errorf("show: %s", r.stdout)
	}
	if got := issue("b.pdf"); !strings.Contains(got, "total 0,00 EUR") {
		t.Errorf("turned on: %s", got)
	}
	if r := hub(t, "city", "set", "--data", data, "--birth-marriage-exempt", "maybe", "--by", "x"); r.code != 2 || !strings.Contains(r.stderr, "on or off") {
		t.Errorf("bad value: %d %s", r.code, r.stderr)
	}
	// The office's diritti, once the city sets them, are what a
	// certificate in bollo is charged there; the exempt nascita stays free.
	if r := hub(t, "city", "set", "--data", data, "--diritti-office", "0,60/0,30", "--by", "m.bianchi"); r.code != 0 {
		t.Fatalf("diritti: %s", r.stderr)
	}
	r := hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "residenza", "--out", filepath.Join(t.TempDir(), "c.pdf"))
	if r.code != 0 || !strings.Contains(r.stdout, "total 16,60 EUR") {
		t.Errorf("residenza at the office after setting its diritti: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if got := issue("d.pdf"); !strings.Contains(got, "total 0,00 EUR") {
		t.Errorf("exempt nascita after setting diritti: %s", got)
	}
}

// TestVirtualBolloAuthorisation: once the city records its authorisation,
// a certificate in bollo prints it (art. 15 DPR 642/1972); an exempt one
// prints its exemption and no payment.
func TestVirtualBolloAuthorisation(t *testing.T) {
	debtest.Need(t, "pdftotext")
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "50"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	if r := hub(t, "city", "set", "--data", data, "--bollo-authorisation", "n. 123/2019 del 15/01/2019", "--by", "m.bianchi"); r.code != 0 {
		t.Fatalf("set: %s", r.stderr)
	}
	if r := hub(t, "city", "set", "--data", data, "--bollo-authorisation", "123/2019", "--by", "x"); r.code == 0 || !strings.Contains(r.stderr, "n. NUMBER del DD/MM/YYYY") {
		t.Errorf("a malformed authorisation: %d %s", r.code, r.stderr)
	}
	cf := strings.Fields(hub(t, "person", "list", "--data", data, "--limit", "1").stdout)[0]
	text := func(extra ...string) string {
		out := filepath.Join(t.TempDir(), "c.pdf")
		r := hub(t, append([]string{"certificate", "issue", "--data", data, "--cf", cf, "--type", "residenza", "--out", out}, extra...)...)
		if r.code != 0 {
			t.Fatalf("issue: %s", r.stderr)
		}
		return words(debtest.Run(t, "pdftotext", out, "-"))
	}
	want := "Imposta di bollo assolta in modo virtuale – autorizzazione Agenzia delle Entrate n. 123/2019 del 15/01/2019."
	if got := text(); !strings.Contains(got, want) {
		t.Errorf("in bollo, the certificate does not say %q:\n%s", want, got)
	}
	if got := text("--exemption", "7"); strings.Contains(got, "virtuale") || !strings.Contains(got, "L. 74/1987") {
		t.Errorf("exempt, the certificate reads:\n%s", got)
	}
}
