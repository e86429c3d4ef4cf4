package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/loadgen"
)

// inProcessHub runs hub serve --demo in this process, as the binary would
// (the same wiring, GOGC 400 unless GOGC is set, HTTPS with its own
// certificate), on a loopback port; it stops when the benchmark ends.
func inProcessHub(b *testing.B) (url, data, caPEM string) {
	b.Helper()
	data = b.TempDir()
	pr, pw := io.Pipe()
	c := &cli{stdout: pw, stderr: io.Discard, dir: data, now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- c.run(ctx, []string{"serve", "--demo", "--data", data, "--addr", "127.0.0.1:0"})
		pw.Close()
	}()
	b.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			b.Errorf("hub serve ended with exit %d", code)
		}
	})
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "hub listening on "); ok {
			url = u
			break
		}
	}
	if url == "" {
		b.Fatal("the in-process hub did not start")
	}
	go io.Copy(io.Discard, pr)
	pem, err := os.ReadFile(filepath.Join(data, "tls", "cert.pem"))
	if err != nil {
		b.Fatal(err)
	}
	return url, data, string(pem)
}

// BenchmarkLoadHTTPS drives an in-process demo hub over signed HTTPS on
// loopback with the load generator, as hub loadtest does: b.N requests by
// 8 and by 32 kiosks, issuances only and the default mix. ns/op is the
// run's wall time per request (enrolments, log-ins and the kiosks' first
// look-ups apart); req/s, issued/s, the percentiles of every request's
// latency and the CPU time per request (hub and generator) are reported.
// The generator shares the machine's cores with the hub, as a kiosk
// driver on the same machine does.
func BenchmarkLoadHTTPS(b *testing.B) {
	url, data, ca := inProcessHub(b)
	ctx := context.Background()
	prep := &loadPrep{c: &cli{stdout: io.Discard, stderr: io.Discard, dir: data, now: time.Now}, data: data}
	if err := prep.run(ctx, append([]string{"city", "set", "--data", data, "--by", "loadtest"}, loadtestLimits...)...); err != nil {
		b.Fatal(err)
	}
	people, err := prep.people(ctx, 20)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		kiosks int
		mix    loadgen.Mix
	}{
		{"issue/kiosks=8", 8, loadgen.Mix{Issue: 1}},
		{"issue/kiosks=32", 32, loadgen.Mix{Issue: 1}},
		{"mix/kiosks=8", 8, loadgen.DefaultMix},
		{"mix/kiosks=32", 32, loadgen.DefaultMix},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ks, err := prep.kiosks(ctx, tc.kiosks, demoShopID, []string{url})
			if err != nil {
				b.Fatal(err)
			}
			// The kiosks have looked their people up before the measured
			// run (Prime), so an issuance-only mix sends issuances only.
			var cpu0 time.Duration
			rep, err := loadgen.Run(ctx, loadgen.Config{Kiosks: ks, People: people, MaxRequests: b.N, Mix: tc.mix, HubCAPEM: ca, Seed: 1, Prime: true,
				Started: func() { cpu0 = cpuTime() }})
			cpu := cpuTime() - cpu0
			if err != nil {
				b.Fatal(err)
			}
			if n := len(rep.Errors); n > 0 {
				b.Errorf("errors: %v", rep.Errors)
			}
			b.ReportMetric(float64(rep.Elapsed.Nanoseconds())/float64(max(rep.Requests, 1)), "ns/op")
			// The hub's and the generator's CPU together: on a shared
			// machine the steadier figure.
			b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(max(rep.Requests, 1)), "cpu-ms/op")
			b.ReportMetric(rep.PerSecond, "req/s")
			b.ReportMetric(rep.IssuedPerSecond, "issued/s")
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(rep.Latency.P50), "p50-ms")
			b.ReportMetric(ms(rep.Latency.P95), "p95-ms")
			b.ReportMetric(ms(rep.Latency.P99), "p99-ms")
		})
	}
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
