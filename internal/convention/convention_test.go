package convention

import (
	"bytes"
	"crypto/ed25519"
	"encoding/csv"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
)

// shops is an operator source of two shops with one device each.
type shops struct {
	ops  map[string]*operators.Operator
	devs map[string][]*operators.Device
}

func (s shops) Get(id string) (*operators.Operator, error) {
	if o, ok := s.ops[id]; ok {
		return o, nil
	}
	return nil, operators.ErrNotFound
}

func (s shops) Devices(id string) ([]*operators.Device, error) { return s.devs[id], nil }

// log is an audit source over a slice, matching as auditbolt does.
type log []audit.Entry

func (l log) Search(q audit.Query, limit int) ([]audit.Entry, error) {
	var out []audit.Entry
	for _, e := range l {
		if q.Match(&e) {
			out = append(out, e)
		}
	}
	return out, nil
}

type clerks []Clerk

func (c clerks) Clerks(string) ([]Clerk, error) { return c, nil }
func (c clerks) ClerkRules() ([]Setting, error) {
	return []Setting{{"Senza addetto collegato", "rifiutato"}}, nil
}

type retention Retention

func (r retention) Retention() (Retention, error) { return Retention(r), nil }

type settings []Setting

func (s settings) Limits(string) ([]Setting, error) { return s, nil }
func (s settings) AccessLog() ([]Setting, error)    { return s, nil }
func (s settings) Notices() ([]Setting, error)      { return s, nil }

type requesters Requesters

func (r requesters) Requesters(*operators.Operator) (Requesters, error) { return Requesters(r), nil }

var now = time.Date(2026, 3, 10, 9, 0, 0, 0, protocol.Rome)

func day(s string) protocol.Day {
	d, err := protocol.ParseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}

func device(t *testing.T, op *operators.Operator, name string) *operators.Device {
	t.Helper()
	pub, _, _ := ed25519.GenerateKey(nil)
	d, err := operators.NewDevice(op, pub, name, now.AddDate(0, -1, 0))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fixture(t *testing.T) (Sources, *operators.Device, *operators.Device) {
	t.Helper()
	agreement := &operators.Agreement{Signed: registry.Date{Year: 2026, Month: 1, Day: 15}, Expires: registry.Date{Year: 2029, Month: 1, Day: 14},
		FeeCents: 150, Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia}}
	a := &operators.Operator{ID: "op-0001", LegalName: "Edicola Loreto di Giulia Ferrari", Name: "Edicola Loreto", PartitaIVA: "12345670157",
		Category: operators.Edicola, Status: operators.Active, Agreement: agreement,
		Address: operators.Address{Street: "Piazzale Loreto", Number: "1", CAP: "20131", City: "Milano"}}
	b := &operators.Operator{ID: "op-0002", LegalName: "Tabaccheria Porta Romana S.n.c.", Category: operators.Tabaccheria, Status: operators.Active, Agreement: agreement}
	da, db := device(t, a, "Cassa 1"), device(t, b, "Cassa B")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, protocol.Rome)
		if err != nil {
			panic(err)
		}
		return tm
	}
	entry := func(seq uint64, when string, actor audit.Actor, cf string) audit.Entry {
		return audit.Entry{Seq: seq, Time: at(when), Actor: actor, Subject: cf, Data: "certificato residenza",
			Purpose: "rilascio certificato anagrafico (art. 33 DPR 223/1989)", Channel: "counter", Request: "req-" + cf}
	}
	l := log{
		withClerk(entry(1, "2026-02-01 10:00", audit.Actor{Kind: audit.Device, ID: da.KeyID}, "RSSMRA80A01F205X"), audit.Clerk{ID: "cl-0001", Name: "Giulia Ferrari"}),
		entry(2, "2026-02-01 11:00", audit.Actor{Kind: audit.Device, ID: db.KeyID}, "BNCLRA85M41F205Y"), // the other shop
		entry(3, "2026-02-02 09:30", audit.Actor{Kind: audit.Staff, ID: "m.bianchi"}, "VRDGPP70C03F205Z"),
		entry(4, "2026-02-03 16:45", audit.Actor{Kind: audit.Operator, ID: "op-0001"}, "=HYPERLINK(\"x\")"),
		entry(5, "2026-01-10 08:00", audit.Actor{Kind: audit.Device, ID: da.KeyID}, "PRIMA000000000000"),  // before the period
		entry(6, "2026-02-04 12:00", audit.Actor{Kind: audit.Device, ID: "op-0001"}, "NOTSHOP0000000000"), // same id, another kind
	}
	return Sources{
		Operators: shops{ops: map[string]*operators.Operator{a.ID: a, b.ID: b}, devs: map[string][]*operators.Device{a.ID: {da}, b.ID: {db}}},
		Audit:     l,
	}, da, db
}

func withClerk(e audit.Entry, c audit.Clerk) audit.Entry { e.Clerk = c; return e }

var milano = City{Comune: "Comune di Milano", Office: "Servizi Demografici — Ufficio Anagrafe"}

func fileNamed(t *testing.T, files []File, prefix, ext string) File {
	t.Helper()
	for _, f := range files {
		if strings.HasPrefix(f.Name, prefix) && strings.HasSuffix(f.Name, ext) {
			return f
		}
	}
	t.Fatalf("no %s*%s among %v", prefix, ext, names(files))
	return File{}
}

func names(files []File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed; make deps installs it")
	}
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	// Words wrapped across lines or spread by -layout still read as one.
	return strings.Join(strings.Fields(string(out)), " ")
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, b)
	}
	return rows
}

func TestKitWithEverySection(t *testing.T) {
	src, da, _ := fixture(t)
	src.Clerks = clerks{
		{Name: "Ferrari Giulia", CF: "FRRGLI80A41F205X", TrainedOn: registry.Date{Year: 2026, Month: 1, Day: 20}, EnabledUntil: registry.Date{Year: 2027, Month: 1, Day: 19}, Status: StatusEnabled, Login: "CIE e PIN"},
		{Name: "Colombo Marco", CF: "CLMMRC75B02F205Y", TrainedOn: registry.Date{Year: 2026, Month: 1, Day: 20}, EnabledUntil: registry.Date{Year: 2027, Month: 1, Day: 19}, Status: "sospeso", Login: "password e TOTP"},
	}
	src.Retention = retention{RecordMonths: 36, PDFDays: 30}
	src.Limits = settings{{"Richieste al minuto per dispositivo", "12"}}
	src.AccessLog = settings{{"Consultazione", "al totem con CIE e PIN"}}
	src.Notices = settings{{"Canali", "App IO ed e-mail"}}
	src.Requester = requesters{Identification: []string{"CIE con autenticazione del chip"}, Widening: &Widening{Scope: "certificati di residenza per terzi", Basis: "art. 33 DPR 223/1989, delibera n. 12/2026"}}
	k, err := Gather(src, milano, "op-0001", Period{From: day("2026-02-01"), To: day("2026-02-28")}, now)
	if err != nil {
		t.Fatal(err)
	}
	files, err := k.Files()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"addetti-op-0001.csv", "conservazione.csv", "registro-accessi-op-0001-2026-02-01-2026-02-28.csv",
		"registro-accessi-op-0001-2026-02-01-2026-02-28.pdf", "convenzione-op-0001.pdf", ManifestName}
	if !slices.Equal(names(files), want) {
		t.Fatalf("files %v, want %v", names(files), want)
	}

	// The audit extract: this shop's device and the shop itself, in the
	// period, nothing of the other shop, of staff, or of another kind of
	// actor that happens to share the shop's id.
	rows := readCSV(t, fileNamed(t, files, "registro-accessi", ".csv").Data)
	if !slices.Equal(rows[0], AuditHeader) {
		t.Errorf("header %v, want %v", rows[0], AuditHeader)
	}
	var seqs, subjects []string
	for _, r := range rows[1:] {
		seqs, subjects = append(seqs, r[0]), append(subjects, r[5])
		if r[2] != "op-0001" {
			t.Errorf("row %v is not the shop's", r)
		}
	}
	if !slices.Equal(seqs, []string{"1", "4"}) {
		t.Errorf("extract has entries %v, want 1 and 4", seqs)
	}
	if rows[1][3] != "device:"+da.KeyID || rows[1][1] != "2026-02-01 10:00:00" || rows[1][4] != "Giulia Ferrari (cl-0001)" || rows[2][4] != "" {
		t.Errorf("first row %v", rows[1])
	}
	if subjects[1] != `'=HYPERLINK("x")` {
		t.Errorf("a formula in a cell is not defused: %q", subjects[1])
	}

	clerkRows := readCSV(t, fileNamed(t, files, "addetti", ".csv").Data)
	if !slices.Equal(clerkRows[0], ClerksHeader) || len(clerkRows) != 3 || clerkRows[1][1] != "Ferrari Giulia" || clerkRows[1][4] != "2027-01-19" {
		t.Errorf("clerks CSV: %v", clerkRows)
	}
	ret := readCSV(t, fileNamed(t, files, "conservazione", ".csv").Data)
	if !slices.Equal(ret[0], RetentionHeader) || len(ret) != 3 || ret[1][1] != "36" || ret[1][2] != "mesi" || ret[2][1] != "30" || ret[2][2] != "giorni" {
		t.Errorf("retention CSV: %v", ret)
	}

	text := pdfText(t, fileNamed(t, files, "convenzione", ".pdf").Data)
	for _, s := range []string{"Comune di Milano", "Edicola Loreto di Giulia Ferrari", "12345670157", "dal 15/01/2026 al 14/01/2029",
		"1,50 EUR per certificato", "residenza; stato di famiglia",
		"Ferrari Giulia", "FRRGLI80A41F205X", "Colombo Marco", "CIE e PIN", "Senza addetto collegato rifiutato", "Conservazione 36 mesi", "PDF riscaricabile 30 giorni",
		"Richieste al minuto per", "12", "al totem con CIE e PIN", "App IO ed e-mail", "art. 33 DPR 223/1989, delibera n. 12/2026", "CIE con autenticazione del chip",
		"Cassa 1", da.KeyID, "2 accessi registrati", "art. 28 del Regolamento (UE) 2016/679"} {
		if !strings.Contains(text, s) {
			t.Errorf("the agreement does not say %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "non applicato") {
		t.Errorf("the agreement calls a control with its source not applied:\n%s", text)
	}
	// The agreement binds its annexes by digest.
	for _, f := range files[:4] {
		if !strings.Contains(text, f.SHA256()) {
			t.Errorf("the agreement does not list %s's SHA-256", f.Name)
		}
	}
	audit := pdfText(t, fileNamed(t, files, "registro-accessi", ".pdf").Data)
	for _, s := range []string{"RSSMRA80A01F205X", "dispositivo Cassa 1", "esercente op-0001", "01/02/2026 10:00:00", "addetto Giulia Ferrari (cl-0001)"} {
		if !strings.Contains(audit, s) {
			t.Errorf("the audit extract PDF does not say %q:\n%s", s, audit)
		}
	}
	for _, s := range []string{"BNCLRA85M41F205Y", "VRDGPP70C03F205Z", "PRIMA000000000000", "NOTSHOP0000000000"} {
		if strings.Contains(audit, s) {
			t.Errorf("the audit extract PDF shows %s, which is not the shop's in the period", s)
		}
	}

	manifest := string(files[len(files)-1].Data)
	for _, f := range files[:len(files)-1] {
		if !strings.Contains(manifest, f.SHA256()+"  "+f.Name+"\n") {
			t.Errorf("the manifest lacks %s:\n%s", f.Name, manifest)
		}
	}
}

// A control whose feature this hub lacks is said to be not applied, with
// no value and no file for it.
func TestKitStatesWhatIsNotApplied(t *testing.T) {
	src, _, _ := fixture(t)
	k, err := Gather(src, milano, "op-0001", Period{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if k.Period.From != day("2026-01-15") || k.Period.To != day("2026-03-10") {
		t.Errorf("default period %v, want the agreement's signing day to today", k.Period)
	}
	files, err := k.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasPrefix(f.Name, "addetti") || strings.HasPrefix(f.Name, "conservazione") {
			t.Errorf("%s written with no source for it", f.Name)
		}
	}
	text := pdfText(t, fileNamed(t, files, "convenzione", ".pdf").Data)
	if n := strings.Count(text, "Controllo non applicato"); n != 7 {
		t.Errorf("%d sections say they are not applied, want 7 (requesters, identification, clerks, limits, retention, access log, notices):\n%s", n, text)
	}
	if strings.Contains(text, "mesi") {
		t.Errorf("the agreement prints a retention with no retention source:\n%s", text)
	}
	if len(k.NotApplied()) != 6 {
		t.Errorf("NotApplied: %v", k.NotApplied())
	}
	// The entry before the signing day is outside the default period.
	rows := readCSV(t, fileNamed(t, files, "registro-accessi", ".csv").Data)
	if len(rows) != 3 {
		t.Errorf("default period extract: %v", rows)
	}
}

func TestGatherRefuses(t *testing.T) {
	src, _, _ := fixture(t)
	if _, err := Gather(src, milano, "op-0042", Period{}, now); !errors.Is(err, operators.ErrNotFound) {
		t.Errorf("unknown operator: %v", err)
	}
	office := &operators.Operator{ID: "op-0003", LegalName: "Comune di Milano", Category: operators.RegistryOffice, Status: operators.Active}
	src.Operators.(shops).ops[office.ID] = office
	if _, err := Gather(src, milano, "op-0003", Period{}, now); !errors.Is(err, ErrNoAgreement) {
		t.Errorf("registry office: %v", err)
	}
	if _, err := Gather(src, milano, "op-0001", Period{From: day("2026-03-01"), To: day("2026-02-01")}, now); !errors.Is(err, ErrPeriod) {
		t.Errorf("reversed period: %v", err)
	}
}

// A kit's PDFs are dated when the kit was gathered, not when they were
// rendered: the same kit renders to the same bytes, so a digest taken today
// can be checked against an export made again later from the same data.
func TestKitIsReproducible(t *testing.T) {
	src, _, _ := fixture(t)
	k, err := Gather(src, milano, "op-0001", Period{}, now)
	if err != nil {
		t.Fatal(err)
	}
	files, err := k.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f.Name, ".pdf") && !bytes.Contains(f.Data, []byte("/CreationDate (D:20260310090000)")) {
			t.Errorf("%s is not dated at the kit's time", f.Name)
		}
	}
	again, err := k.Files()
	if err != nil {
		t.Fatal(err)
	}
	if m1, m2 := files[len(files)-1].Data, again[len(again)-1].Data; !bytes.Equal(m1, m2) {
		t.Errorf("two renderings of one kit differ:\n%s\n%s", m1, m2)
	}
}
