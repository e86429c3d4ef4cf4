package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/loadgen"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
)

func init() {
	register(command{Name: "loadtest",
		Usage: "--hub URL [--hub URL]... --data DIR [--kiosks N] [--duration D] [--max-requests M] [--mix lookup=35,issue=35,retry=10,refusal=10,burst=10] [--burst N] [--people N] [--operator ID] [--prime] [--ca FILE] [--seed N] [--json]",
		Help:  "drive a running demo hub as N kiosks over signed HTTPS (look-ups, issuances, retries, refusals, offline bursts) and report throughput, latency percentiles and errors by reason; it issues real certificates, so it refuses any hub but one hub serve --demo made",
		Run:   (*cli).loadtest})
}

// Limits a load test sets on the demo city so that it measures the hub,
// not the guard's refusals: a handful of kiosks sends in a second what a
// shop's counter sends in a week (limits.Fields gives the bounds).
var loadtestLimits = []string{
	"--limit-device-rate", "10000", "--limit-clerk-rate", "10000", "--limit-shop-rate", "100000",
	"--limit-device-daily", "1000000", "--limit-clerk-daily", "1000000", "--limit-shop-daily", "1000000",
	"--limit-flood-alert", "99999", "--limit-flood-suspend", "100000",
	"--limit-repeat-alert", "9999", "--limit-repeat-suspend", "10000",
	"--limit-night-alert", "99999", "--limit-night-suspend", "100000",
	"--limit-refusal-alert", "99", "--limit-refusal-suspend", "100",
}

func (c *cli) loadtest(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub loadtest")
	var hubs listFlag
	fs.Var(&hubs, "hub", "`URL` of a hub to drive (repeatable: kiosks are spread across the hubs, which must share one database)")
	data := fs.String("data", "", "data directory of the running demo hub, whose control socket mints the kiosks' enrolment codes and clerks")
	kiosks := fs.Int("kiosks", 8, "simulated kiosks, each with its own clerk, each sending one request at a time (a burst: several)")
	duration := fs.Duration("duration", 30*time.Second, "start no request after this long (0: bounded by --max-requests only)")
	maxReq := fs.Int("max-requests", 0, "send at most this many requests (0: bounded by --duration only)")
	mixFlag := fs.String("mix", loadgen.DefaultMix.String(), "weights of what a kiosk does next: lookup, issue, retry (the same request again under its key), refusal, burst (an offline batch)")
	burst := fs.Int("burst", 5, "issuances in an offline batch")
	people := fs.Int("people", 100, "residents the kiosks serve, read from the hub's registry")
	opID := fs.String("operator", demoShopID, "the shop the kiosks are enrolled for (its agreement names the certificate types)")
	caFile := fs.String("ca", "", "PEM `FILE` of the hub's TLS certificate (default: DIR/tls/cert.pem, the demo's own, when there is one)")
	prime := fs.Bool("prime", false, "each kiosk looks every resident up before the measured run, so an issuance-only mix measures issuances alone")
	seed := fs.Uint64("seed", 0, "seed of the kiosks' choices (0: random)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if len(hubs) == 0 {
		return usagef("--hub URL is required")
	}
	if *data == "" {
		return usagef("--data DIR (the running demo hub's) is required: the kiosks' enrolment codes and clerks are made through it")
	}
	if *kiosks < 1 || *kiosks > 1000 {
		return usagef("--kiosks must be between 1 and 1000")
	}
	if *duration < 0 || *maxReq < 0 || (*duration == 0 && *maxReq == 0) {
		return usagef("give the run a bound: --duration above 0 or --max-requests above 0")
	}
	if *people < 1 || *burst < 1 {
		return usagef("--people and --burst must be at least 1")
	}
	mix, err := loadgen.ParseMix(*mixFlag)
	if err != nil {
		return usagef("%s", err)
	}
	dir := c.path(*data)
	// A load test fills the protocol register with certificates nobody
	// asked for and lifts the city's limits: only on the demo's data.
	if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
		return fmt.Errorf("hub loadtest refuses %s: it is not a directory hub serve --demo made (no %s file), and a load test issues real certificates into the protocol register and lifts the city's limits", dir, demoMarker)
	}
	caPath := *caFile
	if caPath == "" {
		if p := filepath.Join(dir, "tls", "cert.pem"); fileExists(p) {
			caPath = p
		}
	}
	var caPEM string
	if caPath != "" {
		b, err := os.ReadFile(c.path(caPath))
		if err != nil {
			return fmt.Errorf("cannot read the hub's TLS certificate: %v", unwrapPath(err))
		}
		caPEM = string(b)
	}

	prep := &loadPrep{c: c, data: dir}
	// An earlier run may have lifted them already: the command's refusal
	// of a change to the same values comes back as its sentence only.
	if err := prep.run(ctx, append([]string{"city", "set", "--data", dir, "--by", "loadtest"}, loadtestLimits...)...); err != nil && !strings.Contains(err.Error(), "already hold these values") {
		return fmt.Errorf("cannot lift the demo city's limits for the load test: %w", err)
	}
	persons, err := prep.people(ctx, *people)
	if err != nil {
		return err
	}
	ks, err := prep.kiosks(ctx, *kiosks, *opID, hubs)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "hub loadtest: %d kiosks at %s, %d residents, mix %s; the demo city's limits are lifted (hub city set --limit-… puts them back)\n", len(ks), *opID, len(persons), mix)

	rep, err := loadgen.Run(ctx, loadgen.Config{Kiosks: ks, People: persons, Duration: *duration, MaxRequests: *maxReq,
		Mix: mix, Burst: *burst, HubCAPEM: caPEM, Seed: *seed, Prime: *prime})
	if err != nil {
		return err
	}
	if *asJSON {
		return rep.WriteJSON(c.stdout)
	}
	return rep.WriteText(c.stdout)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// loadPrep runs staff commands in the running hub (through its control
// socket, as staff would type them) to prepare a load test.
type loadPrep struct {
	c    *cli
	data string
}

// run runs one hub command and returns its standard output.
func (p *loadPrep) output(ctx context.Context, args ...string) (string, error) {
	var out, errOut bytes.Buffer
	inner := &cli{stdout: &out, stderr: &errOut, dir: p.c.dir, now: p.c.now, clockOffset: p.c.clockOffset}
	if code := inner.run(ctx, args); code != 0 {
		return "", fmt.Errorf("hub %s: %s", strings.Join(args[:2], " "), strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

func (p *loadPrep) run(ctx context.Context, args ...string) error {
	_, err := p.output(ctx, args...)
	return err
}

// people are up to n living residents with a document valid today, read
// as staff read them (hub person show, recorded in the audit log).
func (p *loadPrep) people(ctx context.Context, n int) ([]loadgen.Person, error) {
	list, err := p.output(ctx, "person", "list", "--data", p.data, "--limit", strconv.Itoa(3*n))
	if err != nil {
		return nil, err
	}
	today := registry.DateOf(p.c.now().In(operators.Rome))
	var out []loadgen.Person
	for line := range strings.Lines(list) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		js, err := p.output(ctx, "person", "show", "--data", p.data, "--cf", f[0], "--json", "--purpose", "hub loadtest: residents the simulated kiosks serve")
		if err != nil {
			return nil, err
		}
		var rec struct {
			Person registry.Person `json:"person"`
		}
		if err := json.Unmarshal([]byte(js), &rec); err != nil {
			return nil, fmt.Errorf("hub person show --json answered what is not its JSON: %v", err)
		}
		r := &rec.Person
		if _, res := r.CurrentResidence(); !res || !r.Alive() || r.AIRE || r.PartlyCertifiable {
			continue
		}
		if d, ok := r.ValidDocument(today); ok {
			out = append(out, loadgen.Person{CF: r.CF, Document: d.Number})
			if len(out) == n {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the hub's registry has no living resident with a valid document to serve")
	}
	return out, nil
}

var (
	enrolCodeLine = regexp.MustCompile(`(?m)^enrolment code: (\S+)$`)
	totpLine      = regexp.MustCompile(`TOTP secret [^:]*: ([A-Z2-7]+)`)
)

// kiosks mints an enrolment code and enables a clerk with a password for
// each of n kiosks of shop opID, spread across hubs.
func (p *loadPrep) kiosks(ctx context.Context, n int, opID string, hubs []string) ([]loadgen.Kiosk, error) {
	pwFile, err := os.CreateTemp("", "loadtest-password")
	if err != nil {
		return nil, err
	}
	defer os.Remove(pwFile.Name())
	password := "loadtest-" + strconv.FormatUint(rand.Uint64(), 36)
	if _, err := fmt.Fprintln(pwFile, password); err != nil {
		return nil, err
	}
	if err := pwFile.Close(); err != nil {
		return nil, err
	}
	now := p.c.now().In(operators.Rome)
	trained, until := now.AddDate(0, 0, -1).Format(time.DateOnly), now.AddDate(0, 1, 0).Format(time.DateOnly)
	var ks []loadgen.Kiosk
	for i := range n {
		out, err := p.output(ctx, "operator", "enrol-code", "--data", p.data, "--by", "loadtest", opID)
		if err != nil {
			return nil, err
		}
		m := enrolCodeLine.FindStringSubmatch(out)
		if m == nil {
			return nil, fmt.Errorf("hub operator enrol-code printed no code: %q", out)
		}
		// Each kiosk's clerk is someone new, so that no TOTP code is
		// spent twice and no earlier run's clerk is met again.
		cf := clerkCF()
		out, err = p.output(ctx, "clerk", "add", "--data", p.data, "--operator", opID, "--cf", cf, "--name", fmt.Sprintf("Carico Prova %d", i+1),
			"--trained", trained, "--until", until, "--password-file", pwFile.Name(), "--by", "loadtest")
		if err != nil {
			return nil, err
		}
		s := totpLine.FindStringSubmatch(out)
		if s == nil {
			return nil, fmt.Errorf("hub clerk add printed no TOTP secret: %q", out)
		}
		ks = append(ks, loadgen.Kiosk{Hub: hubs[i%len(hubs)], Code: m[1], Name: fmt.Sprintf("loadtest-%d", i+1),
			ClerkCF: cf, Password: password, TOTPSecret: s[1]})
	}
	return ks, nil
}

// clerkCF is a well-formed codice fiscale for a load test's clerk: the
// letters of "Carico Prova", a random birth date in Milan.
func clerkCF() string {
	months := "ABCDEHLMPRST"
	first15 := fmt.Sprintf("PRVCRC%02d%c%02dF205", rand.IntN(100), months[rand.IntN(12)], 1+rand.IntN(28)+40*rand.IntN(2))
	return first15 + string(codicefiscale.CheckChar(first15))
}
