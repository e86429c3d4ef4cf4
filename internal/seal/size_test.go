package seal_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/certificate/pdf/sample"
)

// maxCertificatePDF is the largest a sealed certificate may be (issue 16:
// 1.5 million a year are kept as files, and sent to kiosks and phones).
const maxCertificatePDF = 30 << 10

// representative returns a composed Document of every ANPR certificate
// type: the certificate package's golden compositions (some combine types,
// as a contestuale does), each given a verification URL, and the
// renderer's samples (a name with diacritics, a delegated officer).
func representative(t testing.TB) map[string]certificate.Document {
	t.Helper()
	paths, err := filepath.Glob("../certificate/testdata/*.golden.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden certificate documents: %v", err)
	}
	docs := map[string]certificate.Document{}
	covered := map[certificate.Type]bool{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d certificate.Document
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if d.VerifyURL == "" {
			d.VerifyURL = "https://certificati.comune.milano.it/v/" + d.ID
		}
		for _, ty := range d.Types {
			covered[ty] = true
		}
		docs[strings.TrimSuffix(filepath.Base(p), ".golden.json")] = d
	}
	for _, ty := range certificate.Types() {
		if ty.ANPR() && !covered[ty] {
			t.Fatalf("no representative document of type %s", ty)
		}
	}
	docs["sample_residenza"] = sample.Residenza()
	docs["sample_stato_di_famiglia"] = sample.StatoDiFamiglia()
	return docs
}

// TestCertificateSize: every type's sealed PDF, signature included, stays
// within maxCertificatePDF.
func TestCertificateSize(t *testing.T) {
	k := testKeys(t)
	for name, d := range representative(t) {
		b, _ := issue(t, k, d)
		t.Logf("%-24s %6d bytes", name, len(b))
		if len(b) > maxCertificatePDF {
			t.Errorf("%s: the sealed PDF has %d bytes, more than %d", name, len(b), maxCertificatePDF)
		}
	}
}

// BenchmarkCertificateSize issues each representative certificate, sealed
// and signed, and reports its size and the CPU time it takes.
func BenchmarkCertificateSize(b *testing.B) {
	k := testKeys(b)
	docs := representative(b)
	names := make([]string, 0, len(docs))
	for name := range docs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		d := docs[name]
		b.Run(name, func(b *testing.B) {
			size := 0
			start := cpuTime()
			for b.Loop() {
				out, _, err := k.IssuePDF(&d)
				if err != nil {
					b.Fatal(err)
				}
				size = len(out)
			}
			reportCPU(b, start)
			b.ReportMetric(float64(size), "bytes/pdf")
		})
	}
}
