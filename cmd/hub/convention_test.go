package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	hubcore "github.com/sportello/sportello/internal/hub"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/convention"
	"github.com/sportello/sportello/internal/notify/mail/smtptest"
	"github.com/sportello/sportello/internal/store/bolt/auditbolt"
	"github.com/sportello/sportello/internal/store/bolt/opbolt"
)

// conventionHub seeds a small city with the demo shops, enrols a device for
// the first two shops and records one read by each device, one by staff
// and one by the first shop itself. It returns the data directory and the
// subjects read by the first shop and by the others.
func conventionHub(t *testing.T) (data string, mine, others []string) {
	t.Helper()
	data = filepath.Join(t.TempDir(), "data")
	if r := hub(t, "seed", "--data", data, "--persons", "40", "--seed", "3"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	db, err := bbolt.Open(registryPath(data), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ops, err := opbolt.New(db, time.Now, city.Milan().Policy())
	if err != nil {
		t.Fatal(err)
	}
	if err := hubcore.AddDemoOperators(ops.Service, time.Now()); err != nil {
		t.Fatal(err)
	}
	enrol := func(op string) string {
		code, _, err := ops.IssueCode(op, "staff:test", 0)
		if err != nil {
			t.Fatal(err)
		}
		pub, _, _ := ed25519.GenerateKey(nil)
		d, err := ops.Enrol(code, pub, "Cassa di "+op)
		if err != nil {
			t.Fatal(err)
		}
		return d.KeyID
	}
	first, second := enrol(demoShopID), enrol("op-0002")
	mine = []string{"RSSMRA80A01F205X", "FRRGLI80A41F205X"}
	others = []string{"BNCLRA85M41F205Y", "VRDGPP70C03F205Z"}
	entries := []audit.Entry{
		{Actor: audit.Actor{Kind: audit.Device, ID: first}, Subject: mine[0]},
		{Actor: audit.Actor{Kind: audit.Device, ID: second}, Subject: others[0]},
		{Actor: audit.Actor{Kind: audit.Staff, ID: "m.bianchi"}, Subject: others[1]},
		{Actor: audit.Actor{Kind: audit.Operator, ID: demoShopID}, Subject: mine[1]},
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := auditbolt.Init(tx); err != nil {
			return err
		}
		for _, e := range entries {
			e.Time, e.Data, e.Channel = time.Now(), "certificato residenza", "counter"
			e.Purpose = "rilascio certificato anagrafico (art. 33 DPR 223/1989)"
			if _, err := auditbolt.Append(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return data, mine, others
}

func pdfToText(t *testing.T, file string) string {
	t.Helper()
	out, err := exec.Command("pdftotext", "-layout", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v (make deps installs poppler-utils)", file, err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func TestConventionExport(t *testing.T) {
	data, mine, others := conventionHub(t)
	// Two named clerks of the shop, one suspended, and one of another shop.
	for _, args := range [][]string{
		{"clerk", "add", "--data", data, "--operator", demoShopID, "--cf", "RSSMRA50B17A558W", "--name", "Mario Rossi", "--trained", "2026-01-20", "--until", "2099-01-19"},
		{"clerk", "add", "--data", data, "--operator", demoShopID, "--cf", "CCCFBA85D03L219P", "--name", "Fabio Cicco", "--trained", "2026-01-20", "--until", "2099-01-19"},
		{"clerk", "add", "--data", data, "--operator", "op-0002", "--cf", "MRTMRA83T56A269B", "--name", "Maria Martini", "--trained", "2026-01-20", "--until", "2099-01-19"},
		{"clerk", "suspend", "--data", data, "cl-0002", "--reason", "ha lasciato il negozio"},
	} {
		if r := hub(t, args...); r.code != 0 {
			t.Fatalf("%v: %s", args, r.stderr)
		}
	}
	out := filepath.Join(t.TempDir(), "kit")
	r := hub(t, "convention", "export", "--data", data, "--operator", demoShopID, "--out", out)
	if r.code != 0 {
		t.Fatalf("export: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "addetti-"+demoShopID+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.Comma = ';'
	clerks, err := cr.ReadAll()
	if err != nil || len(clerks) != 3 || !slices.Equal(clerks[0], convention.ClerksHeader) {
		t.Fatalf("addetti CSV (%v):\n%s", err, b)
	}
	if got := [][]string{clerks[1][1:6], clerks[2][1:6]}; !slices.Equal(got[0], []string{"Mario Rossi", "RSSMRA50B17A558W", "2026-01-20", "2099-01-19", "abilitato"}) ||
		!slices.Equal(got[1], []string{"Fabio Cicco", "CCCFBA85D03L219P", "2026-01-20", "2099-01-19", "sospeso"}) {
		t.Errorf("addetti CSV rows %v", got)
	}
	if !strings.Contains(r.stdout, "2 audit entries") || strings.Contains(r.stdout, "not applied") {
		t.Errorf("the command does not say how many entries it exported, or names a control not applied:\n%s", r.stdout)
	}

	// Every file the manifest names is there with its digest, and nothing else.
	manifest, err := os.ReadFile(filepath.Join(out, convention.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	listed := []string{convention.ManifestName}
	for _, line := range strings.Split(strings.TrimSpace(string(manifest)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("manifest line %q", line)
		}
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s does not match its SHA-256 in the manifest", name)
		}
		listed = append(listed, name)
	}
	des, _ := os.ReadDir(out)
	var present []string
	for _, de := range des {
		present = append(present, de.Name())
	}
	slices.Sort(listed)
	if !slices.Equal(present, listed) {
		t.Errorf("the kit holds %v, the manifest lists %v", present, listed)
	}

	csvs, _ := filepath.Glob(filepath.Join(out, "registro-accessi-"+demoShopID+"-*.csv"))
	if len(csvs) != 1 {
		t.Fatalf("audit extract CSVs: %v", csvs)
	}
	b, _ = os.ReadFile(csvs[0])
	cr = csv.NewReader(bytes.NewReader(b))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("the audit extract does not parse: %v\n%s", err, b)
	}
	if !slices.Equal(rows[0], convention.AuditHeader) {
		t.Errorf("header %v", rows[0])
	}
	var subjects []string
	for _, row := range rows[1:] {
		subjects = append(subjects, row[5])
		if row[2] != demoShopID {
			t.Errorf("row %v is not the shop's", row)
		}
	}
	if !slices.Equal(subjects, mine) {
		t.Errorf("the extract reads %v, want the shop's own %v", subjects, mine)
	}

	text := pdfToText(t, filepath.Join(out, "convenzione-"+demoShopID+".pdf"))
	// Exported with no hub running, the kit cannot know the serving
	// hub's notification channels, and says so rather than guess.
	for _, s := range []string{"Comune di Milano", "Edicola Loreto di Giulia Ferrari", "12345670157", "2,00 EUR per certificato", "residenza AIRE; stato civile", "Cassa di " + demoShopID, "2 accessi registrati",
		"prodotto a server fermo, che non può dire quali lo siano", "Conservazione 36 mesi", "PDF riscaricabile 30 giorni",
		"Mario Rossi RSSMRA50B17A558W 20/01/2026 19/01/2099 abilitato CIE e PIN", "Fabio Cicco", "sospeso",
		"Richieste al minuto 20 per dispositivo, 20 per addetto", "Richieste al giorno 300 per dispositivo",
		"componente della sua famiglia anagrafica (non una convivenza). La verifica", "Estensione della regola nessuna (impostazione predefinita)",
		"Solo allo sportello, dove l'addetto controlla il documento", "questo kit è stato prodotto a server fermo, che non può dirlo",
		"Periodo Gli ultimi 12 mesi, dal più recente."} {
		if !strings.Contains(text, s) {
			t.Errorf("the agreement does not say %q:\n%s", s, text)
		}
	}
	// Every control of issue 13 has landed: none is stated as not applied.
	if strings.Contains(text, "Controllo non applicato") {
		t.Errorf("the agreement states a control as not applied:\n%s", text)
	}
	if strings.Contains(text, "Maria Martini") || strings.Contains(string(b), "Maria Martini") {
		t.Error("the kit lists another shop's clerk")
	}

	// The retention and limits sections are the city's settings, as staff change them.
	if r := hub(t, "city", "set", "--data", data, "--retention-months", "48", "--retention-pdf-days", "15", "--limit-device-rate", "7"); r.code != 0 {
		t.Fatalf("city set: %s", r.stderr)
	}
	// A widening shows with the legal basis the city named.
	basis := "art. 33 DPR 223/1989, convenzione n. 12/2026 con l'Ordine degli Avvocati"
	if r := hub(t, "operator", "widening", "--data", data, demoShopID, "--basis", basis); r.code != 0 {
		t.Fatalf("operator widening: %s", r.stderr)
	}
	again := filepath.Join(t.TempDir(), "kit")
	if r := hub(t, "convention", "export", "--data", data, "--operator", demoShopID, "--out", again); r.code != 0 {
		t.Fatalf("export after city set: %s", r.stderr)
	}
	ret, err := os.ReadFile(filepath.Join(again, "conservazione.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ret), ";48;mesi\n") || !strings.Contains(string(ret), ";15;giorni\n") {
		t.Errorf("conservazione.csv after city set:\n%s", ret)
	}
	if text := pdfToText(t, filepath.Join(again, "convenzione-"+demoShopID+".pdf")); !strings.Contains(text, "Conservazione 48 mesi") || !strings.Contains(text, "PDF riscaricabile 15 giorni") || !strings.Contains(text, "Richieste al minuto 7 per dispositivo") ||
		!strings.Contains(text, "Base giuridica dell'estensione "+basis) || !strings.Contains(text, "salvo l'estensione indicata sotto") {
		t.Errorf("the agreement does not follow the city's retention and limits, or the shop's widening:\n%s", text)
	}

	auditPDFs, _ := filepath.Glob(filepath.Join(out, "registro-accessi-"+demoShopID+"-*.pdf"))
	if len(auditPDFs) != 1 {
		t.Fatalf("audit extract PDFs: %v", auditPDFs)
	}
	extract := pdfToText(t, auditPDFs[0])
	for _, cf := range mine {
		if !strings.Contains(extract, cf) {
			t.Errorf("the audit extract PDF lacks the shop's read of %s", cf)
		}
	}
	for _, cf := range others {
		if strings.Contains(extract, cf) || strings.Contains(string(b), cf) {
			t.Errorf("the audit extract shows %s, read by someone else", cf)
		}
	}
}

func TestConventionExportRefuses(t *testing.T) {
	data, _, _ := conventionHub(t)
	dir := t.TempDir()

	// An unknown shop: one sentence, non-zero, nothing written.
	out := filepath.Join(dir, "unknown")
	r := hub(t, "convention", "export", "--data", data, "--operator", "op-0042", "--out", out)
	if r.code == 0 || !strings.Contains(r.stderr, "op-0042") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Errorf("unknown operator: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused export left %s behind", out)
	}
	// A registry office works under no agreement.
	r = hub(t, "convention", "export", "--data", data, "--operator", "op-0004", "--out", out)
	if r.code == 0 || !strings.Contains(r.stderr, "registry office") {
		t.Errorf("registry office: exit %d\n%s", r.code, r.stderr)
	}
	r = hub(t, "convention", "export", "--data", data, "--operator", demoShopID, "--out", out, "--from", "2026-03-01", "--to", "2026-02-01")
	if r.code != 2 || !strings.Contains(r.stderr, "before") {
		t.Errorf("reversed period: exit %d\n%s", r.code, r.stderr)
	}

	// A directory with something in it is refused, and left as it was.
	full := filepath.Join(dir, "full")
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(full, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = hub(t, "convention", "export", "--data", data, "--operator", demoShopID, "--out", full)
	if r.code == 0 || !strings.Contains(r.stderr, "not empty") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("non-empty --out: exit %d\n%s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Errorf("the refused export touched %s: %q %v", keep, b, err)
	}
	// With --force the kit replaces it whole: nothing of the old directory
	// stays, and no temporary directory is left beside it.
	r = hub(t, "convention", "export", "--data", data, "--operator", demoShopID, "--out", full, "--force")
	if r.code != 0 {
		t.Fatalf("--force: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(keep); !os.IsNotExist(err) {
		t.Errorf("--force kept %s in the kit", keep)
	}
	if _, err := os.Stat(filepath.Join(full, convention.ManifestName)); err != nil {
		t.Errorf("--force wrote no kit: %v", err)
	}
	// An empty directory is used as is.
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o755)
	if r := hub(t, "convention", "export", "--data", data, "--operator", demoShopID, "--out", empty); r.code != 0 {
		t.Errorf("empty --out: exit %d\n%s", r.code, r.stderr)
	}
	left, _ := os.ReadDir(dir)
	var names []string
	for _, de := range left {
		names = append(names, de.Name())
	}
	if !slices.Equal(names, []string{"empty", "full"}) {
		t.Errorf("beside the kits: %v, want only the kits", names)
	}
}

// Exported through a running hub, the kit names the notification
// channels that hub was started with, and calls notices not applied when
// it was started with none.
func TestConventionExportThroughRunningHub(t *testing.T) {
	smtp, err := smtptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	data, mine, _ := conventionHub(t)
	ca, err := virtual.TestCSCA()
	if err != nil {
		t.Fatal(err)
	}
	cscaFile := filepath.Join(t.TempDir(), "csca.pem")
	if err := os.WriteFile(cscaFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	cieAccepted := "il sistema centrale verifica la risposta del chip"
	cieRefused := "CIE: non accettata da questo server, avviato senza l'elenco delle CSCA"
	for _, tt := range []struct {
		name      string
		flags     []string
		want, cie string
		notCIE    string
	}{
		{"e-mail", []string{"--smtp-addr", smtp.Addr, "--smtp-from", "Comune di Milano <anagrafe@comune.example>"}, "Canali e-mail (all'indirizzo di contatto registrato in anagrafe)", cieRefused, cieAccepted},
		{"none, with a CSCA", []string{"--csca", cscaFile}, "11. Avvisi all'interessato Controllo non applicato", cieAccepted, cieRefused},
	} {
		h := startServe(t, append([]string{"--data", data, "--addr", "127.0.0.1:0", "--insecure-plain-http"}, tt.flags...)...)
		out := filepath.Join(t.TempDir(), "kit")
		r := hub(t, "convention", "export", "--data", data, "--operator", demoShopID, "--out", out)
		h.stop(t)
		if r.code != 0 {
			t.Fatalf("%s: export through the hub: exit %d\n%s%s", tt.name, r.code, r.stdout, r.stderr)
		}
		text := pdfToText(t, filepath.Join(out, "convenzione-"+demoShopID+".pdf"))
		if !strings.Contains(text, tt.want) || !strings.Contains(text, "rifiuta consultazioni e rilasci") ||
			!strings.Contains(text, tt.cie) || strings.Contains(text, tt.notCIE) || strings.Contains(text, "server fermo") {
			t.Errorf("%s: the agreement does not say %q and %q (or says %q):\n%s", tt.name, tt.want, tt.cie, tt.notCIE, text)
		}
		if !strings.Contains(r.stdout, fmt.Sprintf("%d audit entries", len(mine))) {
			t.Errorf("%s: %s", tt.name, r.stdout)
		}
	}
}
