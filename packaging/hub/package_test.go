package hubpackage

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const unit = "usr/lib/systemd/system/sportello-hub.service"

// need finds the tools the test runs; on CI a missing one is a failure
// (the Makefile's packages bring them), elsewhere a skip.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing: make deps installs it", tool)
			}
			t.Skipf("%s is missing (make deps installs it)", tool)
		}
	}
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// build makes the package of version with make package-hub, as a
// release would, into a directory of its own, and returns its path.
func build(t *testing.T, version string) string {
	t.Helper()
	dist := t.TempDir()
	run(t, "../..", "make", "--no-print-directory", "package-hub", "DEB_VERSION="+version, "VERSION="+version, "DIST="+dist)
	debs, _ := filepath.Glob(filepath.Join(dist, "*.deb"))
	if len(debs) != 1 {
		t.Fatalf("make package-hub made %v, want one .deb", debs)
	}
	return debs[0]
}

// newRoot is an empty Debian root for dpkg --root: the dpkg database and
// the account files, with root alone.
func newRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"var/lib/dpkg/status": "", "var/lib/dpkg/available": "",
		"etc/passwd": "root:x:0:0:root:/root:/bin/bash\n", "etc/group": "root:x:0:\n",
		"etc/shadow": "root:*:19000:0:99999:7:::\n", "etc/gshadow": "root:*::\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// dpkg runs dpkg on root with the maintainer scripts outside a chroot,
// where they must honour DPKG_ROOT.
func dpkg(t *testing.T, root string, args ...string) string {
	t.Helper()
	return run(t, "", "dpkg", append([]string{"--root=" + root, "--force-script-chrootless", "--force-unsafe-io", "--log=/dev/null"}, args...)...)
}

func status(t *testing.T, root string) string {
	t.Helper()
	out, _ := exec.Command("dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f=${db:Status-Abbrev}${Version}", "sportello-hub").Output()
	return strings.TrimSpace(string(out))
}

// tree lists the paths under root, leaving out dpkg's database and the
// account files (the hub's user is kept on purge, as Debian keeps system
// users, since files of the comune's records may still be its).
func tree(t *testing.T, root string) []string {
	t.Helper()
	var paths []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case rel == "var/lib/dpkg" || strings.HasPrefix(rel, "var/lib/dpkg/"):
			return nil
		case strings.HasPrefix(rel, "etc/") && strings.ContainsAny(rel[4:], "-") && !strings.Contains(rel, "sportello"),
			rel == "etc/.pwd.lock":
			return nil // passwd-, group- …: the backups account tools leave
		}
		paths = append(paths, rel)
		return nil
	})
	sort.Strings(paths)
	return paths
}

func TestUnitVerifies(t *testing.T) {
	need(t, "systemd-analyze", "go")
	// The unit as packaged, with ExecStart pointing at a hub built now:
	// systemd-analyze verify checks that the command is there.
	bin := filepath.Join(t.TempDir(), "sportello-hub")
	run(t, "../..", "go", "build", "-o", bin, "./cmd/hub")
	text, err := os.ReadFile("sportello-hub.service")
	if err != nil {
		t.Fatal(err)
	}
	const execStart = "ExecStart=/usr/bin/sportello-hub "
	if !bytes.Contains(text, []byte("\n"+execStart)) {
		t.Fatalf("the unit does not start /usr/bin/sportello-hub")
	}
	local := filepath.Join(t.TempDir(), "sportello-hub.service")
	if err := os.WriteFile(local, bytes.Replace(text, []byte(execStart), []byte("ExecStart="+bin+" "), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	// verify warns about unknown or misspelt settings on stderr and
	// still exits 0: any output is a failure.
	if out := run(t, "", "systemd-analyze", "verify", local); out != "" {
		t.Errorf("systemd-analyze verify:\n%s", out)
	}
	// The hardening, as systemd scores it (0 best, 10 worst): no worse
	// than 2.0, which the unit's settings give with room to spare.
	cmd := exec.Command("systemd-analyze", "security", "--offline=yes", "--threshold=20", "--no-pager", local)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("systemd-analyze security: %v\n%s", err, out)
	}
}

// TestInstallUpgradeRemovePurge installs the package in a throw-away root,
// upgrades it to a newer build, removes it and purges it, checking each
// step: the files and their owners, the user, hub.conf kept as the comune
// edited it, and nothing of the package left after purge.
func TestInstallUpgradeRemovePurge(t *testing.T) {
	need(t, "make", "go", "dpkg", "dpkg-deb", "dpkg-query", "systemd-sysusers")
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("dpkg --root needs root, which make test is on CI")
		}
		t.Skip("dpkg --root needs root")
	}
	old, newer := build(t, "1.0.0"), build(t, "1.0.1")
	root := newRoot(t)
	before := tree(t, root)
	hostPasswd, _ := os.ReadFile("/etc/passwd")

	dpkg(t, root, "--install", old)
	if got := status(t, root); got != "ii 1.0.0" {
		t.Fatalf("after install: %q", got)
	}
	for name, mode := range map[string]fs.FileMode{
		"usr/bin/sportello-hub":                 0o755,
		unit:                                    0o644,
		"usr/lib/sysusers.d/sportello-hub.conf": 0o644,
		"etc/sportello/hub.conf":                0o640,
	} {
		fi, err := os.Stat(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
		wantGID := uint32(0)
		if name == "etc/sportello/hub.conf" { // it may hold a database password: the hub's group reads it, nobody else
			wantGID = rootGID(t, root, "sportello")
		}
		if uid, gid := owner(fi); uid != 0 || gid != wantGID {
			t.Errorf("%s: owned by %d:%d, want 0:%d", name, uid, gid, wantGID)
		}
	}
	sameBinary(t, root, old)
	conffiles := run(t, "", "dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f=${Conffiles}", "sportello-hub")
	if !strings.Contains(conffiles, "/etc/sportello/hub.conf") {
		t.Errorf("hub.conf is not a conffile: %q", conffiles)
	}
	users := func() string {
		b, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if n := strings.Count(users(), "\nsportello:x:"); n != 1 || !strings.Contains(users(), ":Sportello hub:/var/lib/sportello:") {
		t.Errorf("the sportello user, once, with its home; /etc/passwd of the root:\n%s", users())
	}
	if now, _ := os.ReadFile("/etc/passwd"); !bytes.Equal(now, hostPasswd) {
		t.Error("the maintainer scripts changed the machine's /etc/passwd, not the root's: DPKG_ROOT not honoured")
	}

	// The comune edits hub.conf; an upgrade keeps the edit.
	conf := filepath.Join(root, "etc/sportello/hub.conf")
	edited := []byte("data = /srv/sportello\n")
	if err := os.WriteFile(conf, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	dpkg(t, root, "--install", newer)
	if got := status(t, root); got != "ii 1.0.1" {
		t.Fatalf("after upgrade: %q", got)
	}
	sameBinary(t, root, newer)
	if got, _ := os.ReadFile(conf); !bytes.Equal(got, edited) {
		t.Errorf("upgrade replaced the edited hub.conf with:\n%s", got)
	}
	if n := strings.Count(users(), "\nsportello:x:"); n != 1 {
		t.Errorf("after upgrade the user is there %d times", n)
	}

	// Remove keeps the settings (dpkg's conffiles), purge takes them.
	dpkg(t, root, "--remove", "sportello-hub")
	if got := status(t, root); got != "rc 1.0.1" {
		t.Errorf("after remove: %q, want rc (config files left)", got)
	}
	for _, gone := range []string{"usr/bin/sportello-hub", unit, "usr/lib/sysusers.d/sportello-hub.conf"} {
		if _, err := os.Stat(filepath.Join(root, gone)); err == nil {
			t.Errorf("%s is left after remove", gone)
		}
	}
	if _, err := os.Stat(conf); err != nil {
		t.Errorf("remove took hub.conf: %v", err)
	}
	dpkg(t, root, "--purge", "sportello-hub")
	if got := status(t, root); got != "" && !strings.HasPrefix(got, "un") {
		t.Errorf("after purge: %q", got)
	}
	after := tree(t, root)
	if strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("purge left the root with\n%s\nwhere it was\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}

func owner(fi fs.FileInfo) (uint32, uint32) {
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// sameBinary checks that root's /usr/bin/sportello-hub is deb's.
func sameBinary(t *testing.T, root, deb string) {
	t.Helper()
	dir := t.TempDir()
	run(t, "", "dpkg-deb", "-x", deb, dir)
	want, err := os.ReadFile(filepath.Join(dir, "usr/bin/sportello-hub"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "usr/bin/sportello-hub"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("/usr/bin/sportello-hub is not the one of %s", filepath.Base(deb))
	}
}

// TestUnitStartWaits: the unit gives hub serve's start-up work (a
// pre-upgrade pg_dump and the schema migration, before READY=1) no start
// timeout; with systemd's default 90 s a big city's upgrade was killed
// mid-way and restarted into the same work (issue 18).
func TestUnitStartWaits(t *testing.T) {
	text, err := os.ReadFile("sportello-hub.service")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains("\n"+string(text), "\nTimeoutStartSec=infinity\n") {
		t.Error("the unit has no TimeoutStartSec=infinity: the default 90 s start timeout kills a long upgrade before READY=1")
	}
}

// rootGID is group name's id in root's own /etc/group.
func rootGID(t *testing.T, root, name string) uint32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "etc/group"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, ":"); len(f) >= 3 && f[0] == name {
			id, err := strconv.ParseUint(f[2], 10, 32)
			if err != nil {
				t.Fatal(err)
			}
			return uint32(id)
		}
	}
	t.Fatalf("no group %s in the root's /etc/group", name)
	return 0
}
