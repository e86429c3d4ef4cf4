package seal_test

import (
	"encoding/json"
	"syscall"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// qrVersion is the QR version the renderer's settings (level M) give.
func qrVersion(t *testing.T, content string) int {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	return q.VersionNumber
}

// cpuTime is the process's user+system CPU time. The build machines are
// shared, so benchmarks also report CPU time per operation, which other
// processes' load does not inflate as it does wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
