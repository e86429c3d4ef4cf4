package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseAndWrite(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkLoadHTTPS/issue/kiosks=8-2         	    1500	  15380690 ns/op	        46.08 issued/s	       102.6 p50-ms	       374.5 p99-ms
BenchmarkEncode/Nicolò-2   	  500000	      2150 ns/op
BenchmarkLookupByCF1400000-2   300000   7030 ns/op   51.2 p99-µs
PASS
`)
	got := map[string]map[string]float64{}
	parse(out, got)
	if got["BenchmarkLoadHTTPS/issue/kiosks=8"]["issued/s"] != 46.08 || got["BenchmarkEncode/Nicolò"]["ns/op"] != 2150 || got["BenchmarkLookupByCF1400000"]["p99-µs"] != 51.2 {
		t.Fatalf("parsed %v", got)
	}
	rs := []row{
		{what: "https", target: "≥ 500/s", figs: []figure{
			{"8 kiosks", "./cmd/hub", "BenchmarkLoadHTTPS/issue/kiosks=8", "issued/s", "/s", false},
			{"p99", "./cmd/hub", "BenchmarkLoadHTTPS/issue/kiosks=8", "p99-ms", "ms", false},
			{"in process", "./internal/issuance", "BenchmarkIssueParallel", "certs/s", "/s", true},
		}},
		{what: "encode", target: "—", figs: []figure{{"", "./cf", "BenchmarkEncode/Nicolò", "ns/op", "µs", false}}},
		{what: "file check", target: "—", note: "no benchmark"},
	}
	res := results{"./cmd/hub": got, "./cf": got}
	var b bytes.Buffer
	missing := write(&b, rs, res, map[string]string{"./internal/issuance": "exit status 1"})
	for _, want := range []string{
		"| https | ≥ 500/s | 8 kiosks 46/s · p99 374 ms against in process failed (exit status 1) |",
		"| encode | — | 2.15 µs |",
		"| file check | — | no benchmark |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
	if missing != 1 {
		t.Errorf("%d missing, want 1", missing)
	}
}

func TestBenchPattern(t *testing.T) {
	ru := run{pkg: "./a", benchtime: "1s"}
	rs := []row{
		{runs: []run{ru}, figs: []figure{{bench: "BenchmarkX/sub", pkg: "./a"}, {bench: "BenchmarkY", pkg: "./a"}, {bench: "BenchmarkZ", pkg: "./b"}}},
		{runs: []run{ru}, figs: []figure{{bench: "BenchmarkX/other", pkg: "./a"}}},
		{runs: []run{{pkg: "./a", benchtime: "1x"}}, figs: []figure{{bench: "BenchmarkSlow", pkg: "./a"}}},
	}
	if got := benchPattern(rs, ru); got != "^(BenchmarkX|BenchmarkY)$" {
		t.Errorf("pattern %s", got)
	}
}
