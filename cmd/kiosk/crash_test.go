package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cardreader"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/protocol"
)

// The kill test runs this test binary again as a kiosk (the child), chosen
// by these variables: "sale" serves one citizen at the counter as the app
// does, with the app's own wiring (station, counter); "restart" starts the
// kiosk again, as the app does before its sender runs, and prints what it
// finished.
const (
	envChild   = "KIOSK_TEST_CHILD"
	envProfile = "KIOSK_TEST_PROFILE"
	envNIS     = "KIOSK_TEST_NIS"
	envSubject = "KIOSK_TEST_SUBJECT"
	envClerk   = "KIOSK_TEST_CLERK_NIS" // the demo clerk's CIE, for the log-in
)

func TestMain(m *testing.M) {
	if role := os.Getenv(envChild); role != "" {
		os.Exit(kioskChild(role))
	}
	code := m.Run()
	stopPCSCD()
	os.Exit(code)
}

func kioskChild(role string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "kiosk child:", err)
		return 3
	}
	ctx := context.Background()
	dir := os.Getenv(envProfile)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c := &cli{stdin: strings.NewReader(""), stdout: os.Stdout, stderr: os.Stderr, now: time.Now}
	// The passphrase comes from SPORTELLO_DEMO_SECRET, as in a demo.
	st, err := c.openStation(ctx, dir, true, "it", &secretFlags{}, log)
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	client := hubclient.New(st.prof)
	client.Retry = hubclient.Retry{Attempts: 2}
	dev, err := client.Self(ctx)
	if err != nil {
		return fail(err)
	}
	card, err := virtual.New(virtual.Config{NIS: os.Getenv(envNIS)})
	if err != nil {
		return fail(err)
	}
	clerkCard, err := virtual.New(virtual.Config{NIS: os.Getenv(envClerk)})
	if err != nil {
		return fail(err)
	}
	// The clerk's own card on the reader to log in; then the citizen's.
	prov := cardreader.NewInProcess("virtual", clerkCard)
	ca, _ := virtual.TestCSCA()
	reader := &kiosk.CIEReader{Provider: prov, CSCAs: []*x509.Certificate{ca},
		KeyID: st.prof.KeyID, TapClock: client.HubNow}
	defer reader.Close()
	if reader.PIN.Auth, err = virtual.TestDeviceAuth(); err != nil {
		return fail(err)
	}
	cfg := kiosk.Config{Mode: kiosk.Operator, Shop: st.shop.Shop, OperatorID: st.prof.OperatorID, ServiceCents: int64(dev.FeeCents)}
	k, err := c.counter(st, client, cfg, kiosk.Deps{Reader: reader, Clock: kiosk.ClockFunc(time.Now), Log: log})
	if err != nil {
		return fail(err)
	}
	flow := k.flow
	switch role {
	case "sale":
		if err := flow.LoginCard(ctx, virtual.DemoPIN); err != nil {
			return fail(err)
		}
		prov.Insert(card)
		if err := flow.TapCard(ctx); err != nil {
			return fail(err)
		}
		if err := flow.Choose(kiosk.Choice{SubjectCF: os.Getenv(envSubject), Types: []certificate.Type{certificate.Residenza}}); err != nil {
			return fail(err)
		}
		fmt.Println("confirming")
		if err := flow.Confirm(ctx); err != nil {
			return fail(err)
		}
		if v := flow.View(); v.Result != nil && v.Result.Issued != nil {
			fmt.Println("issued", v.Result.Issued.Protocol)
		} else {
			fmt.Println("queued")
		}
	case "restart":
		// The hub takes a counter sale only under a clerk's session: the
		// clerk logs in again after the restart, as at the shop.
		if err := flow.LoginCard(ctx, virtual.DemoPIN); err != nil {
			return fail(err)
		}
		rec, err := flow.Recover(ctx)
		if err != nil {
			return fail(err)
		}
		b, _ := json.Marshal(rec)
		fmt.Printf("recovered %s\n", b)
	default:
		return fail(fmt.Errorf("unknown role %q", role))
	}
	return 0
}

// crashRig is an enrolled kiosk profile against a running demo hub.
type crashRig struct {
	h                 *demoHub
	data, dir         string
	a4Dir, rcDir, day string
	// citizens ask, one a step, each for a certificate about themselves
	// (the hub issues only about the requester or their household): NIS
	// of their CIE → codice fiscale.
	citizens []demoCitizen
	// clerkNIS is the CIE of the clerk the demo hub enables at the shop.
	clerkNIS string
}

// demoCitizen is a living resident of the demo city with a valid CIE.
type demoCitizen struct{ NIS, CF string }

// child runs the kiosk child in role; with step set it must die by its
// own SIGKILL there.
func (r *crashRig) child(t *testing.T, role, step string, who demoCitizen) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+role, envProfile+"="+r.dir, envNIS+"="+who.NIS, envSubject+"="+who.CF, envClerk+"="+r.clerkNIS, crashEnv+"="+step)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("the kiosk (%s) did not finish in 2 minutes:\n%s%s", role, stdout.String(), stderr.String())
	}
	var ee *exec.ExitError
	killed := errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL
	switch {
	case step != "" && !killed:
		t.Fatalf("the kiosk was not killed at %q (%v):\n%s%s", step, err, stdout.String(), stderr.String())
	case step == "" && err != nil:
		t.Fatalf("the kiosk (%s) failed: %v\n%s%s", role, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// register returns today's issued entries of the protocol register whose
// subject names cf: number → certificate id.
func (r *crashRig) register(t *testing.T, cf string) map[string]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(r.h.run(t, "protocol", "export", "--data", r.data, "--day", r.day))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// Columns by name: the register's layout grew the city's codes in
	// front (issue 14), and days closed earlier keep their own.
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, name := range []string{"numero", "direzione", "mittente_destinatario", "riferimento"} {
		if _, ok := col[name]; !ok {
			t.Fatalf("the register has no column %q: %v", name, rows[0])
		}
	}
	out := map[string]string{}
	for _, row := range rows[1:] {
		if row[col["direzione"]] == "uscita" && strings.Contains(row[col["mittente_destinatario"]], cf) {
			out[row[col["numero"]]] = row[col["riferimento"]]
		}
	}
	return out
}

// jobs is `kiosk printer jobs` on the profile.
func (r *crashRig) jobs(t *testing.T) string {
	t.Helper()
	code, out, errs := runPrinterCmd(t, "printer", "jobs", "--profile", r.dir)
	if code != 0 {
		t.Fatalf("kiosk printer jobs: exit %d: %s", code, errs)
	}
	return out
}

func newFiles(before, after []string) []string {
	var out []string
	for _, f := range after {
		if !slices.Contains(before, f) {
			out = append(out, f)
		}
	}
	return out
}

// TestKillAtEachStep: a real kiosk process, enrolled with a real demo hub
// over HTTPS, is killed (SIGKILL) at each step between "Conferma" and the
// printed receipt: the request written, sent, answered, the answer and the
// print jobs committed, the certificate printed, the receipt printed. The
// kiosk is then started again, as the app starts, and the operator acts on
// what its screen says: a sale it says nothing of is done again. Then the
// hub's register holds exactly one certificate (one charge) for the
// citizen, and the certificate and the receipt are each on paper at most
// once and, if not on paper, waiting in `kiosk printer jobs`.
func TestKillAtEachStep(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real hub and kills kiosk processes")
	}
	os.Unsetenv(crashEnv)
	r := &crashRig{data: t.TempDir(), day: time.Now().In(protocol.Rome).Format(time.DateOnly)}
	r.h = startHub(t, r.data)
	r.dir = filepath.Join(t.TempDir(), "kiosk")
	r.a4Dir, r.rcDir = filepath.Join(r.dir, "print", "a4"), filepath.Join(r.dir, "print", "receipts")
	const pass = "edicola della stazione"
	args := []string{"enrol", "--hub", r.h.url, "--code", r.h.code, "--profile", r.dir, "--name", "crash", "--seal", "passphrase", "--secret-stdin"}
	if strings.HasPrefix(r.h.url, "https:") {
		args = append(args, "--hub-ca", filepath.Join(r.data, "tls", "cert.pem"))
	}
	if code, _, errs := runKioskIn(t, pass+"\n", args...); code != 0 {
		t.Fatalf("kiosk enrol: exit %d: %s", code, errs)
	}
	t.Setenv(demoSecretEnv, pass)
	r.clerkNIS = r.h.resident(t).NIS // the demo hub enables this resident as the shop's clerk
	for _, line := range strings.Split(r.h.run(t, "person", "list", "--data", r.data, "--limit", "80"), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || len(r.citizens) == len(crashSteps) || len(r.register(t, f[0])) != 0 {
			continue
		}
		show := r.h.run(t, "person", "show", "--data", r.data, "--cf", f[0], "--purpose", "test: titolare della CIE virtuale")
		if m := validCIE.FindStringSubmatch(show); m != nil && !gone.MatchString(show) && residing.MatchString(show) {
			r.citizens = append(r.citizens, demoCitizen{NIS: m[1], CF: f[0]})
		}
	}
	if len(r.citizens) < len(crashSteps) {
		t.Fatalf("only %d living demo residents with a valid CIE and without a certificate today", len(r.citizens))
	}

	for i, step := range crashSteps {
		t.Run(step, func(t *testing.T) {
			who := r.citizens[i]
			cf := who.CF
			a4Before, rcBefore := files(t, r.a4Dir, ".pdf"), files(t, r.rcDir, ".bin")
			r.child(t, "sale", step, who)
			out := r.child(t, "restart", "", who)
			line := out[strings.LastIndex(out, "recovered ")+len("recovered "):]
			var rec kiosk.Recovered
			if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &rec); err != nil {
				t.Fatalf("the restart's report %q: %v", out, err)
			}
			if rec.Empty() {
				// The screen says nothing of the sale: as far as the
				// operator can tell it never happened, and is done again.
				t.Logf("after a kill at %s the restart reports nothing; the operator sells again", step)
				r.child(t, "sale", "", who)
			}

			issued := r.register(t, cf)
			if len(issued) != 1 {
				t.Fatalf("after a kill at %s the hub issued %d certificates for %s: %v", step, len(issued), cf, issued)
			}
			var number, id string
			for number, id = range issued {
			}
			show := r.h.run(t, "certificate", "show", "--data", r.data, "--id", id)
			if !strings.Contains(show, number) || !strings.Contains(show, "total") || !strings.Contains(show, cf) {
				t.Errorf("certificate %s:\n%s", id, show)
			}
			// What the restart said names this sale.
			said, _ := json.Marshal(rec)
			if !strings.Contains(string(said), number) {
				t.Errorf("the restart's report does not name certificate %s: %s", number, said)
			}

			jobs := r.jobs(t)
			a4 := newFiles(a4Before, files(t, r.a4Dir, ".pdf"))
			rc := newFiles(rcBefore, files(t, r.rcDir, ".bin"))
			a4Waiting := strings.Count(jobs, "certificato "+number)
			rcWaiting := strings.Count(jobs, "ricevuta "+number)
			if len(a4) > 1 || len(rc) > 1 {
				t.Errorf("after a kill at %s the certificate was printed %d times and the receipt %d times", step, len(a4), len(rc))
			}
			if len(a4)+a4Waiting == 0 || len(rc)+rcWaiting == 0 || a4Waiting > 1 || rcWaiting > 1 {
				t.Errorf("after a kill at %s: certificate printed %d, waiting %d; receipt printed %d, waiting %d:\n%s",
					step, len(a4), a4Waiting, len(rc), rcWaiting, jobs)
			}
			// A job waits only where the kill may have left it on paper,
			// and says so.
			wantUncertain := map[string]string{"print-a4": "certificato " + number, "print-receipt": "ricevuta " + number}[step]
			if wantUncertain != "" && (!slices.Contains(rec.Uncertain, wantUncertain) || !strings.Contains(jobs, "printing when the kiosk stopped")) {
				t.Errorf("after a kill at %s the restart says %+v and the jobs are:\n%s", step, rec, jobs)
			}
			if wantUncertain == "" && (a4Waiting+rcWaiting != 0 || len(a4) != 1 || len(rc) != 1) {
				t.Errorf("after a kill at %s: %d certificates and %d receipts printed, %d waiting:\n%s", step, len(a4), len(rc), a4Waiting+rcWaiting, jobs)
			}
			t.Logf("kill at %-13s → %s issued once; printed %d+%d, waiting %d+%d; the screen said %s", step, number, len(a4), len(rc), a4Waiting, rcWaiting, said)
		})
	}
}
