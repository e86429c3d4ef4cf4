// Package debtest runs the Debian command-line tools the tests check
// Sportello's output with: poppler for PDFs, zbar for QR codes, NSS for
// trusting the hub CA. `make test` installs them, so a missing tool fails
// the test with the package to install rather than skipping it.
package debtest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// packages names the Debian package of each tool.
var packages = map[string]string{
	"pdftotext": "poppler-utils", "pdftoppm": "poppler-utils", "pdfsig": "poppler-utils",
	"zbarimg": "zbar-tools", "certutil": "libnss3-tools", "systemd-creds": "systemd",
}

// Need fails the test unless every tool is on the PATH.
func Need(tb testing.TB, tools ...string) {
	tb.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Fatalf("%s is not installed: run `make deps` (Debian package %s)", tool, packages[tool])
		}
	}
}

// Run runs a tool in the UTC zone and returns its standard output; a
// failure fails the test with its standard error.
func Run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // zbarimg complains about D-Bus here: not an error
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}
