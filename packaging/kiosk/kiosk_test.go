// Package kiosk holds the kiosk's Debian packaging (nfpm.yaml, udev and
// polkit rules, the self-service X session); its tests check those files
// and build the package.
package kiosk

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// need finds tool on the PATH; in CI a missing tool is a failure, not a
// skip (make deps installs them).
func need(t *testing.T, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found: install Debian's %s (make deps)", tool, pkg)
		}
		t.Skipf("%s not found: install Debian's %s (make deps)", tool, pkg)
	}
	return p
}

// udevKey is one key of a rule: KEY or KEY{attribute}, its operator and
// its quoted value.
var udevKey = regexp.MustCompile(`^([A-Z_]+)(\{[A-Za-z0-9_.\-]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"$`)

// The keys of udev(7) this file may use: those that match and those that
// assign.
var (
	udevMatch  = []string{"ACTION", "SUBSYSTEM", "KERNEL", "DEVPATH", "DRIVER", "ATTR", "ATTRS", "ENV", "TAG", "SUBSYSTEMS", "DRIVERS", "KERNELS"}
	udevAssign = []string{"TAG", "GROUP", "MODE", "OWNER", "ENV", "GOTO", "LABEL", "RUN", "SYMLINK"}
)

// The udev rules parse: every key is known, matches compare (== !=),
// assignments assign, every GOTO has its LABEL, and the rules give the
// reader and printer devices to the seat's user and plugdev. Where udevadm
// verify exists (systemd 254 and later) it checks the file too.
func TestUdevRules(t *testing.T) {
	f, err := os.Open("70-sportello-kiosk.rules")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var gotos, labels []string
	var rules []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			t.Fatalf("line %d: continuation lines are not used here", n)
		}
		rules = append(rules, line)
		for _, part := range strings.Split(line, ",") {
			m := udevKey.FindStringSubmatch(strings.TrimSpace(part))
			if m == nil {
				t.Errorf("line %d: %q is not KEY OP \"value\"", n, strings.TrimSpace(part))
				continue
			}
			key, op, val := m[1], m[3], m[4]
			matching := op == "==" || op == "!="
			switch {
			case matching && !slices.Contains(udevMatch, key):
				t.Errorf("line %d: %s cannot be matched", n, key)
			case !matching && !slices.Contains(udevAssign, key):
				t.Errorf("line %d: %s cannot be assigned", n, key)
			case key == "MODE" && !regexp.MustCompile(`^0[0-7]{3}$`).MatchString(val):
				t.Errorf("line %d: MODE %q", n, val)
			case key == "GOTO":
				gotos = append(gotos, val)
			case key == "LABEL":
				labels = append(labels, val)
			}
		}
	}
	for _, g := range gotos {
		if !slices.Contains(labels, g) {
			t.Errorf("GOTO %q has no LABEL", g)
		}
	}
	for _, want := range []string{
		`ENV{ID_USB_INTERFACES}=="*:0b0000:*", TAG+="uaccess", GROUP="plugdev", MODE="0660"`, // CCID readers
		`ENV{ID_USB_INTERFACES}=="*:0701??:*", TAG+="uaccess", GROUP="plugdev", MODE="0660"`, // USB printers
		`SUBSYSTEM=="usbmisc", KERNEL=="lp[0-9]*", TAG+="uaccess", GROUP="lp", MODE="0660"`,  // usblp
	} {
		if !slices.Contains(rules, want) {
			t.Errorf("no rule %s", want)
		}
	}
	if udevadm, err := exec.LookPath("udevadm"); err == nil {
		if exec.Command(udevadm, "verify", "--help").Run() == nil {
			if out, err := exec.Command(udevadm, "verify", "70-sportello-kiosk.rules").CombinedOutput(); err != nil {
				t.Errorf("udevadm verify: %v\n%s", err, out)
			}
		}
	}
}

// The polkit rule is valid JavaScript (node --check).
func TestPolkitRule(t *testing.T) {
	node := need(t, "node", "nodejs")
	if out, err := exec.Command(node, "--check", "50-sportello-kiosk-pcsc.rules").CombinedOutput(); err != nil {
		// node wants a .js name to check a file as a script.
		js := filepath.Join(t.TempDir(), "rule.js")
		b, _ := os.ReadFile("50-sportello-kiosk-pcsc.rules")
		os.WriteFile(js, b, 0o644)
		if out2, err := exec.Command(node, "--check", js).CombinedOutput(); err != nil {
			t.Errorf("node --check: %v\n%s\n%s", err, out, out2)
		}
	}
}

// The self-service session starts the kiosk in self-service mode with the
// configured arguments, starts it again when it stops with an error, and
// ends when it quits cleanly.
func TestSessionRestartsTheKiosk(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	logged := filepath.Join(dir, "logged")
	// A kiosk that fails twice (a crash, a killed process) and then quits.
	fake := filepath.Join(dir, "kiosk")
	script := `#!/bin/sh
echo "$*" >> ` + runs + `
n=$(wc -l < ` + runs + `)
case $n in 1) exit 2;; 2) kill -9 $$;; esac
exit 0
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// logger stands in for the system's, so the test writes no syslog.
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "logger"), []byte("#!/bin/sh\necho \"$*\" >> "+logged+"\n"), 0o755)
	cmd := exec.Command("sh", "sportello-kiosk-session", "--lang", "en")
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "SPORTELLO_KIOSK_BIN="+fake,
		"SPORTELLO_KIOSK_RESTART_DELAY=0", "SPORTELLO_KIOSK_ARGS=--profile /srv/kiosk")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("session: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(runs)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 {
		t.Fatalf("the kiosk ran %d times, want 3 (two failures, then a clean quit): %q", len(lines), lines)
	}
	for _, l := range lines {
		if l != "--mode self-service --profile /srv/kiosk --lang en" {
			t.Errorf("kiosk arguments %q", l)
		}
	}
	b, _ = os.ReadFile(logged)
	for _, want := range []string{"status 2", "status 137", "the kiosk quit"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the session's log lacks %q:\n%s", want, b)
		}
	}
}

// make package-kiosk builds the .deb (fyne package, nfpm); its control
// data and contents are what a self-service machine needs, and the
// packaged binary runs.
func TestKioskDeb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the kiosk and its package: minutes")
	}
	dpkgDeb := need(t, "dpkg-deb", "dpkg")
	mk := need(t, "make", "make")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dist := t.TempDir()
	// fyne package counts its builds in FyneApp.toml: it must do so on a
	// copy, not in the source tree.
	meta := filepath.Join(root, "cmd", "kiosk", "FyneApp.toml")
	before, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(mk, "-C", root, "package-kiosk", "DIST="+dist, "VERSION=v1.2.3", "DEB_VERSION=1.2.3")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make package-kiosk: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(meta); string(after) != string(before) {
		t.Errorf("make package-kiosk changed cmd/kiosk/FyneApp.toml:\n%s", after)
	}
	deb := filepath.Join(dist, "sportello-kiosk_1.2.3_amd64.deb")
	info, err := exec.Command(dpkgDeb, "-f", deb).Output()
	if err != nil {
		entries, _ := os.ReadDir(dist)
		t.Fatalf("dpkg-deb -f %s: %v (dist has %v)", deb, err, entries)
	}
	fields := map[string]string{}
	for _, l := range strings.Split(string(info), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			fields[k] = v
		}
	}
	if fields["Package"] != "sportello-kiosk" || fields["Version"] != "1.2.3" || fields["Architecture"] != "amd64" {
		t.Errorf("control: %s", info)
	}
	for _, dep := range []string{"pcscd", "libpcsclite1", "libusb-1.0-0", "libgl1"} {
		if !slices.Contains(strings.Split(fields["Depends"], ", "), dep) {
			t.Errorf("Depends %q lacks %s", fields["Depends"], dep)
		}
	}
	list, err := exec.Command(dpkgDeb, "-c", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]string{}
	for _, l := range strings.Split(string(list), "\n") {
		f := strings.Fields(l)
		if len(f) >= 6 {
			modes[strings.TrimPrefix(f[5], ".")] = f[0] + " " + f[1]
		}
	}
	for path, mode := range map[string]string{
		"/usr/bin/sportello-kiosk":                                  "-rwxr-xr-x root/root",
		"/usr/share/applications/it.sportello.kiosk.desktop":        "-rw-r--r-- root/root",
		"/usr/share/pixmaps/it.sportello.kiosk.png":                 "-rw-r--r-- root/root",
		"/usr/lib/udev/rules.d/70-sportello-kiosk.rules":            "-rw-r--r-- root/root",
		"/usr/share/polkit-1/rules.d/50-sportello-kiosk-pcsc.rules": "-rw-r--r-- root/root",
		"/usr/libexec/sportello-kiosk/session":                      "-rwxr-xr-x root/root",
		"/usr/share/xsessions/sportello-kiosk.desktop":              "-rw-r--r-- root/root",
	} {
		if modes[path] != mode {
			t.Errorf("%s: %q, want %q\n%s", path, modes[path], mode, list)
		}
	}
	// Unpacked: the desktop entry starts the packaged binary with the
	// icon; the binary runs and reports the package's version.
	x := t.TempDir()
	if out, err := exec.Command(dpkgDeb, "-x", deb, x).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
	}
	desk, _ := os.ReadFile(filepath.Join(x, "usr/share/applications/it.sportello.kiosk.desktop"))
	for _, want := range []string{"Exec=sportello-kiosk", "Icon=it.sportello.kiosk", "Name=Sportello"} {
		if !strings.Contains(string(desk), want+"\n") {
			t.Errorf("desktop entry lacks %s:\n%s", want, desk)
		}
	}
	out, err := exec.Command(filepath.Join(x, "usr/bin/sportello-kiosk"), "help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Sportello's shop-counter app") {
		t.Errorf("the packaged kiosk: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(x, "usr/bin/sportello-kiosk")); err != nil || !strings.Contains(string(b), "1.2.3") {
		t.Errorf("the packaged binary does not carry its version 1.2.3 (%v)", err)
	}
}
