// Command benchtable runs the benchmarks behind the README's performance
// table and prints that table with this run's figures: `make bench`. Each
// row's figures, and the reference it is compared with where it has one
// (bbolt against PostgreSQL, in-process issuance against issuance over
// HTTPS, with against without the audit anchor), come from the same run,
// so the machine's load at the time weighs on both alike.
//
//	go run ./scripts/benchtable [-quick] [-only REGEXP] [-v]
//
// -quick leaves out the slow rows (the 1.4 M-resident seed and look-ups,
// the PostgreSQL import); -only keeps the rows whose text matches. The go
// test output goes to stderr with -v. A benchmark that fails or cannot
// run here (no pcscd, no PostgreSQL server binaries) shows as such in its
// row, and the command then exits 1 after printing the table.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// figure is one number of a row: a benchmark's metric, shown with label.
type figure struct {
	label string
	pkg   string
	bench string // full name, sub-benchmarks included, without -GOMAXPROCS
	unit  string // the metric as go test prints it: ns/op, p99-µs, certs/s …
	show  string // how to print it: "µs", "ms", "s", "/s" or "" (as is)
	ref   bool   // the row's reference: printed after "against"
}

// run is one go test invocation: the benchmarks of one package with one
// benchtime and environment.
type run struct {
	pkg, benchtime string
	env            []string
	args           []string
}

type row struct {
	what, target string
	slow         bool
	runs         []run
	figs         []figure
	note         string // printed when the row has no benchmark
}

const gogc400 = "GOGC=400" // as hub serve runs

func rows() []row {
	cf := "./internal/codicefiscale"
	return []row{
		{what: "codice fiscale encode (ASCII name / accented name)", target: "—",
			runs: []run{{pkg: cf, benchtime: "1s"}},
			figs: []figure{{"ASCII", cf, "BenchmarkEncode/Nicola", "ns/op", "µs", false}, {"accented", cf, "BenchmarkEncode/Nicolò", "ns/op", "µs", false}}},
		{what: "codice fiscale validate · decode", target: "—",
			runs: []run{{pkg: cf, benchtime: "1s"}},
			figs: []figure{{"validate", cf, "BenchmarkValidate", "ns/op", "µs", false}, {"decode", cf, "BenchmarkDecode", "ns/op", "µs", false}}},
		{what: "seed 1,400,000 residents into bbolt (BenchmarkSeed1400000)", target: "< 60 s", slow: true,
			runs: []run{{pkg: "./internal/synth", benchtime: "1x"}},
			figs: []figure{{"", "./internal/synth", "BenchmarkSeed1400000", "s/seed", "s", false}, {"CPU", "./internal/synth", "BenchmarkSeed1400000", "cpu-s/seed", "s", false}}},
		{what: "seed 1,400,000 residents into PostgreSQL: hub seed --db, one transaction, unix socket, fsync on (postgres BenchmarkSeed1400000; CPU of the seeding process, not the server's)", target: "< 120 s", slow: true,
			runs: []run{
				{pkg: "./internal/store/postgres", benchtime: "1x", args: []string{"-bench", "^BenchmarkSeed1400000$"}},
				{pkg: "./internal/synth", benchtime: "1x"},
			},
			figs: []figure{
				{"", "./internal/store/postgres", "BenchmarkSeed1400000", "s/seed", "s", false},
				{"CPU", "./internal/store/postgres", "BenchmarkSeed1400000", "cpu-s/seed", "s", false},
				{"bbolt", "./internal/synth", "BenchmarkSeed1400000", "s/seed", "s", true},
			}},
		{what: "look-up by codice fiscale in that store (BenchmarkLookupByCF1400000, GOGC 400)", target: "p99 < 50 µs", slow: true,
			runs: []run{{pkg: "./internal/synth", benchtime: "300000x", env: []string{gogc400}}},
			figs: []figure{{"p50", "./internal/synth", "BenchmarkLookupByCF1400000", "p50-µs", "µs", false}, {"p99", "./internal/synth", "BenchmarkLookupByCF1400000", "p99-µs", "µs", false}, {"p999", "./internal/synth", "BenchmarkLookupByCF1400000", "p999-µs", "µs", false}}},
		{what: "one whole issuance: rules, fees, PDF, QR, token, PDF signature, register, fsync (certbolt BenchmarkIssue, GOGC 400)", target: "< 10 ms",
			runs: []run{{pkg: "./internal/store/bolt/certbolt", benchtime: "200x", env: []string{gogc400}}},
			figs: []figure{{"", "./internal/store/bolt/certbolt", "BenchmarkIssue/nosync=false", "ns/op", "ms", false}, {"without fsync", "./internal/store/bolt/certbolt", "BenchmarkIssue/nosync=true", "ns/op", "ms", true}}},
		{what: "issuances per second in process, 2 cores (issuance BenchmarkIssueParallel, GOGC 400)", target: "≥ 1,000/s",
			runs: []run{{pkg: "./internal/issuance", benchtime: "2000x", env: []string{gogc400}}},
			figs: []figure{{"", "./internal/issuance", "BenchmarkIssueParallel", "certs/s", "/s", false}}},
		{what: "issuances per second in process on PostgreSQL, unix socket, every domain in the database (issuance BenchmarkIssueParallelPostgres, GOGC 400; CPU of the hub's process, not the server's)", target: "≥ 300/s",
			runs: []run{{pkg: "./internal/issuance", benchtime: "2000x", env: []string{gogc400}}},
			figs: []figure{
				{"", "./internal/issuance", "BenchmarkIssueParallelPostgres", "certs/s", "/s", false},
				{"CPU", "./internal/issuance", "BenchmarkIssueParallelPostgres", "cpu-ns/op", "ms", false},
				{"bbolt", "./internal/issuance", "BenchmarkIssueParallel", "certs/s", "/s", true},
			}},
		{what: "audited reads, 16 handlers at once, one entry each through store.Recorder (postgres BenchmarkAuditRecord; fsync on, unix socket)", target: "—",
			runs: []run{{pkg: "./internal/store/postgres", benchtime: "2s", args: []string{"-bench", "^BenchmarkAuditRecord$"}}},
			figs: []figure{
				{"PostgreSQL", "./internal/store/postgres", "BenchmarkAuditRecord/postgres", "entries/s", "/s", false},
				{"bbolt", "./internal/store/postgres", "BenchmarkAuditRecord/bolt", "entries/s", "/s", true},
			}},
		{what: "issuances over signed HTTPS on loopback, in-process demo hub, load generator on the same cores (cmd/hub BenchmarkLoadHTTPS)", target: "≥ 500/s, p99 < 50 ms",
			runs: []run{
				{pkg: "./cmd/hub", benchtime: "3000x", args: []string{"-bench", "^BenchmarkLoadHTTPS$"}},
				{pkg: "./internal/issuance", benchtime: "2000x", env: []string{gogc400}},
			},
			figs: []figure{
				{"8 kiosks", "./cmd/hub", "BenchmarkLoadHTTPS/issue/kiosks=8", "issued/s", "/s", false},
				{"p99", "./cmd/hub", "BenchmarkLoadHTTPS/issue/kiosks=8", "p99-ms", "ms", false},
				{"CPU (hub and generator)", "./cmd/hub", "BenchmarkLoadHTTPS/issue/kiosks=8", "cpu-ms/op", "ms", false},
				{"32 kiosks", "./cmd/hub", "BenchmarkLoadHTTPS/issue/kiosks=32", "issued/s", "/s", false},
				{"p99", "./cmd/hub", "BenchmarkLoadHTTPS/issue/kiosks=32", "p99-ms", "ms", false},
				{"in process", "./internal/issuance", "BenchmarkIssueParallel", "certs/s", "/s", true},
				{"CPU", "./internal/issuance", "BenchmarkIssueParallel", "cpu-ns/op", "ms", true},
			}},
		{what: "the load generator's default mix (look-ups, issuances, retries, refusals, offline bursts) over signed HTTPS (BenchmarkLoadHTTPS/mix)", target: "—",
			runs: []run{{pkg: "./cmd/hub", benchtime: "3000x", args: []string{"-bench", "^BenchmarkLoadHTTPS$"}}},
			figs: []figure{
				{"8 kiosks", "./cmd/hub", "BenchmarkLoadHTTPS/mix/kiosks=8", "req/s", "/s", false},
				{"p50", "./cmd/hub", "BenchmarkLoadHTTPS/mix/kiosks=8", "p50-ms", "ms", false},
				{"p99", "./cmd/hub", "BenchmarkLoadHTTPS/mix/kiosks=8", "p99-ms", "ms", false},
				{"32 kiosks", "./cmd/hub", "BenchmarkLoadHTTPS/mix/kiosks=32", "req/s", "/s", false},
				{"p99", "./cmd/hub", "BenchmarkLoadHTTPS/mix/kiosks=32", "p99-ms", "ms", false},
			}},
		{what: "the hub's own check of a requester's CIE tap (BenchmarkIdentifyCIETap)", target: "—",
			runs: []run{{pkg: "./internal/identify", benchtime: "1s"}},
			figs: []figure{{"", "./internal/identify", "BenchmarkIdentifyCIETap", "ns/op", "ms", false}}},
		{what: "limits in front of each signed request (BenchmarkGuardCheck · …Parallel, bbolt store)", target: "—",
			runs: []run{{pkg: "./internal/store/bolt/limitsbolt", benchtime: "1s"}},
			figs: []figure{{"serial", "./internal/store/bolt/limitsbolt", "BenchmarkGuardCheck", "ns/op", "µs", false}, {"parallel", "./internal/store/bolt/limitsbolt", "BenchmarkGuardCheckParallel", "ns/op", "µs", false}}},
		{what: "audit anchor per commit (BenchmarkRecordParallelAnchored)", target: "—",
			runs: []run{{pkg: "./internal/store/bolt/auditbolt", benchtime: "1s"}},
			figs: []figure{{"", "./internal/store/bolt/auditbolt", "BenchmarkRecordParallelAnchored", "ns/op", "ms", false}, {"without", "./internal/store/bolt/auditbolt", "BenchmarkRecordParallel", "ns/op", "ms", true}}},
		{what: "registry import, 100,000 synthetic residents, PostgreSQL on a unix socket (postgres BenchmarkImport)", target: "—", slow: true,
			runs: []run{{pkg: "./internal/store/postgres", benchtime: "1x", args: []string{"-bench", "^BenchmarkImport$"}}},
			figs: []figure{{"PostgreSQL", "./internal/store/postgres", "BenchmarkImport/postgres", "persons/s", "/s", false}, {"bbolt", "./internal/store/postgres", "BenchmarkImport/bolt", "persons/s", "/s", true}}},
		{what: "registry look-up by codice fiscale, same registry (postgres BenchmarkPersonByCF)", target: "—", slow: true,
			runs: []run{{pkg: "./internal/store/postgres", benchtime: "20000x", args: []string{"-bench", "^BenchmarkPersonByCF$"}}},
			figs: []figure{
				{"PostgreSQL p50", "./internal/store/postgres", "BenchmarkPersonByCF/postgres", "p50-µs", "µs", false},
				{"p99", "./internal/store/postgres", "BenchmarkPersonByCF/postgres", "p99-µs", "µs", false},
				{"bbolt p50", "./internal/store/postgres", "BenchmarkPersonByCF/bolt", "p50-µs", "µs", true},
				{"p99", "./internal/store/postgres", "BenchmarkPersonByCF/bolt", "p99-µs", "µs", true},
			}},
		{what: "whole-file check when opening hub.db", target: "—", note: "no benchmark: measured by hand (README)"},
		{what: "`hub verify` of a certificate (seal BenchmarkVerifyPDF)", target: "—",
			runs: []run{{pkg: "./internal/seal", benchtime: "1s"}},
			figs: []figure{{"", "./internal/seal", "BenchmarkVerifyPDF", "ns/op", "ms", false}}},
		{what: "RFC 9421 sign · verify a request", target: "—",
			runs: []run{{pkg: "./internal/httpsig", benchtime: "1s"}},
			figs: []figure{{"sign", "./internal/httpsig", "BenchmarkSignRequest", "ns/op", "µs", false}, {"verify", "./internal/httpsig", "BenchmarkVerifyRequest", "ns/op", "µs", false}}},
		{what: "audit entry in the caller's transaction · batched on its own", target: "—",
			runs: []run{{pkg: "./internal/store/bolt/auditbolt", benchtime: "1s"}},
			figs: []figure{{"in the transaction", "./internal/store/bolt/auditbolt", "BenchmarkAppendInTx", "ns/op", "µs", false}, {"on its own", "./internal/store/bolt/auditbolt", "BenchmarkRecordSerial", "ns/op", "ms", false}}},
		{what: "CIE level-1 read through pcscd with the virtual card", target: "< 300 ms",
			runs: []run{{pkg: "./internal/cardreader/pcsc", benchtime: "20x"}, {pkg: "./internal/cie", benchtime: "1s"}},
			figs: []figure{{"", "./internal/cardreader/pcsc", "BenchmarkReadLevel1PCSC", "ns/op", "ms", false}, {"in process", "./internal/cie", "BenchmarkReadLevel1InProcess", "ns/op", "ms", true}}},
		{what: "CIE PIN verification in the IAS secure channel, through pcscd", target: "—",
			runs: []run{{pkg: "./internal/cardreader/pcsc", benchtime: "20x"}},
			figs: []figure{{"", "./internal/cardreader/pcsc", "BenchmarkVerifyPINPCSC", "ns/op", "ms", false}}},
		{what: "receipt encoding (printer/receipt BenchmarkEncode: TM-T20 native QR · generic raster QR)", target: "< 1 ms",
			runs: []run{{pkg: "./printer/receipt", benchtime: "1s"}},
			figs: []figure{{"native", "./printer/receipt", "BenchmarkEncode/tm-t20", "ns/op", "µs", false}, {"raster", "./printer/receipt", "BenchmarkEncode/generic", "ns/op", "ms", false}}},
		{what: "outbox enqueue with fsync · drain", target: "—",
			runs: []run{{pkg: "./internal/outbox", benchtime: "200x"}},
			figs: []figure{{"enqueue", "./internal/outbox", "BenchmarkEnqueue/personal=false", "ns/op", "ms", false}, {"drain", "./internal/outbox", "BenchmarkDrain", "ns/op-delivered", "ms", false}}},
		{what: "kiosk tap-to-printed, hub on loopback (cmd/kiosk BenchmarkTapToPrinted)", target: "< 2 s",
			runs: []run{{pkg: "./cmd/kiosk", benchtime: "20x"}},
			figs: []figure{{"", "./cmd/kiosk", "BenchmarkTapToPrinted", "ns/op", "ms", false}}},
		{what: "kiosk cold start to first screen, test renderer (BenchmarkColdStart)", target: "—",
			runs: []run{{pkg: "./internal/kiosk/ui", benchtime: "10x"}},
			figs: []figure{{"", "./internal/kiosk/ui", "BenchmarkColdStart", "ns/op", "ms", false}}},
	}
}

// results holds what each run measured: package → benchmark → unit → value.
type results map[string]map[string]map[string]float64

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parse reads go test -bench output.
func parse(out []byte, into map[string]map[string]float64) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		metrics := map[string]float64{}
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				metrics[f[i+1]] = v
			}
		}
		into[m[1]] = metrics
	}
}

func main() {
	quick := flag.Bool("quick", false, "leave out the slow rows (1.4 M residents, PostgreSQL import and look-ups)")
	only := flag.String("only", "", "keep only the rows whose text matches this regular expression")
	verbose := flag.Bool("v", false, "copy go test's output to stderr")
	flag.Parse()
	var keep *regexp.Regexp
	if *only != "" {
		var err error
		if keep, err = regexp.Compile(*only); err != nil {
			fmt.Fprintf(os.Stderr, "benchtable: -only: %v\n", err)
			os.Exit(2)
		}
	}
	var rs []row
	for _, r := range rows() {
		if (*quick && r.slow) || (keep != nil && !keep.MatchString(r.what)) {
			continue
		}
		rs = append(rs, r)
	}
	res := results{}
	failed := map[string]string{} // package+run key → why
	done := map[string]bool{}
	start := time.Now()
	for _, r := range rs {
		for _, ru := range r.runs {
			key := ru.pkg + " " + ru.benchtime + " " + strings.Join(ru.env, " ") + " " + strings.Join(ru.args, " ")
			if done[key] {
				continue
			}
			done[key] = true
			pattern := benchPattern(rs, ru)
			args := []string{"test", "-run", "^$", "-benchtime", ru.benchtime}
			if len(ru.args) > 0 {
				args = append(args, ru.args...)
			} else {
				args = append(args, "-bench", pattern)
			}
			args = append(args, ru.pkg)
			fmt.Fprintf(os.Stderr, "benchtable: go %s %s\n", strings.Join(args, " "), strings.Join(ru.env, " "))
			cmd := exec.Command("go", args...)
			cmd.Env = append(os.Environ(), ru.env...)
			var out bytes.Buffer
			var w io.Writer = &out
			if *verbose {
				w = io.MultiWriter(&out, os.Stderr)
			}
			cmd.Stdout, cmd.Stderr = w, w
			err := cmd.Run()
			if res[ru.pkg] == nil {
				res[ru.pkg] = map[string]map[string]float64{}
			}
			parse(out.Bytes(), res[ru.pkg])
			if err != nil {
				failed[ru.pkg] = lastLines(out.String(), 3)
				fmt.Fprintf(os.Stderr, "benchtable: %s failed: %s\n", ru.pkg, failed[ru.pkg])
			}
		}
	}
	missing := write(os.Stdout, rs, res, failed)
	fmt.Printf("\n%d rows in %s on %s/%s, GOMAXPROCS %d, %d CPUs.\n", len(rs), time.Since(start).Round(time.Second), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU())
	if missing > 0 {
		fmt.Printf("%d figures could not be measured here (see the rows).\n", missing)
		os.Exit(1)
	}
}

// benchPattern is the -bench pattern of every benchmark the rows want
// from ru's package with ru's settings: their top-level names.
func benchPattern(rs []row, ru run) string {
	var names []string
	for _, r := range rs {
		if !slices.ContainsFunc(r.runs, func(x run) bool { return x.pkg == ru.pkg && x.benchtime == ru.benchtime && slices.Equal(x.env, ru.env) }) {
			continue
		}
		for _, f := range r.figs {
			top, _, _ := strings.Cut(f.bench, "/")
			if f.pkg == ru.pkg && !slices.Contains(names, top) {
				names = append(names, top)
			}
		}
	}
	return "^(" + strings.Join(names, "|") + ")$"
}

// write prints the table and returns how many figures it lacks.
func write(w io.Writer, rs []row, res results, failed map[string]string) int {
	missing := 0
	fmt.Fprintln(w, "| what | target | measured |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, r := range rs {
		if r.note != "" {
			fmt.Fprintf(w, "| %s | %s | %s |\n", r.what, r.target, r.note)
			continue
		}
		var main, ref []string
		for _, f := range r.figs {
			v, ok := res[f.pkg][f.bench][f.unit]
			var s string
			switch {
			case ok:
				s = format(v, f.unit, f.show)
			case failed[f.pkg] != "":
				s = "failed (" + strings.ReplaceAll(failed[f.pkg], "|", "/") + ")"
				missing++
			default:
				s = "not run"
				missing++
			}
			if f.label != "" {
				s = f.label + " " + s
			}
			if f.ref {
				ref = append(ref, s)
			} else {
				main = append(main, s)
			}
		}
		cell := strings.Join(main, " · ")
		if len(ref) > 0 {
			cell += " against " + strings.Join(ref, " · ")
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", r.what, r.target, cell)
	}
	return missing
}

// format prints v, measured in unit, as show asks.
func format(v float64, unit, show string) string {
	ns := v
	switch {
	case strings.HasPrefix(unit, "ns/"):
	case strings.HasSuffix(unit, "-µs"):
		ns = v * 1e3
	case strings.HasSuffix(unit, "-ms"), strings.HasPrefix(unit, "cpu-ms/"):
		ns = v * 1e6
	case strings.HasPrefix(unit, "s/"), strings.HasPrefix(unit, "cpu-s/"):
		ns = v * 1e9
	}
	switch show {
	case "µs":
		return strconv.FormatFloat(ns/1e3, 'f', prec(ns/1e3), 64) + " µs"
	case "ms":
		return strconv.FormatFloat(ns/1e6, 'f', prec(ns/1e6), 64) + " ms"
	case "s":
		return strconv.FormatFloat(ns/1e9, 'f', 1, 64) + " s"
	case "/s":
		return strconv.FormatFloat(v, 'f', 0, 64) + "/s"
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + unit
}

// prec keeps about three significant digits.
func prec(v float64) int {
	switch {
	case v >= 100:
		return 0
	case v >= 10:
		return 1
	case v >= 1:
		return 2
	}
	return 3
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
