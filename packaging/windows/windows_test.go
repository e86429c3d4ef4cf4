// Package windows holds what ships the kiosk to a shop's Windows PC: the
// shop's instructions (README-it.txt, zipped with kiosk.exe by `make
// package-windows`) and the smoke test that runs the Windows build under
// Wine.
package windows

import (
	"bufio"
	"context"
	"debug/pe"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// needTools skips without the cross compiler, Wine or Xvfb, except in CI,
// where `make deps` installed them and their absence is a failure.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("missing %s: run make deps (Debian gcc-mingw-w64-x86-64, wine, wine64, xvfb, x11-apps, x11-utils, netpbm)", strings.Join(missing, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// crossEnv is the environment that builds for Windows with mingw-w64.
func crossEnv() []string {
	return append(os.Environ(), "CGO_ENABLED=1", "GOOS=windows", "GOARCH=amd64", "CC=x86_64-w64-mingw32-gcc")
}

// kioskExe is SPORTELLO_KIOSK_EXE (the .exe `make package-windows` built)
// or kiosk.exe cross-compiled now.
func kioskExe(t *testing.T) string {
	if exe := os.Getenv("SPORTELLO_KIOSK_EXE"); exe != "" {
		return exe
	}
	exe := filepath.Join(t.TempDir(), "kiosk.exe")
	start := time.Now()
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version=wine-smoke", "-o", exe, "../../cmd/kiosk")
	cmd.Env = crossEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cross-compiling the kiosk for Windows: %v\n%s", err, out)
	}
	t.Logf("kiosk.exe built in %s", time.Since(start).Round(time.Second))
	return exe
}

// wineEnv is a private Wine prefix on a private Xvfb display.
type wineEnv struct {
	prefix, display string
}

func (w *wineEnv) env() []string {
	return append(os.Environ(), "WINEPREFIX="+w.prefix, "DISPLAY="+w.display, "WINEDEBUG=-all",
		// No Mono or Gecko download prompts: the kiosk needs neither.
		"WINEDLLOVERRIDES=mscoree,mshtml=", "WINEARCH=win64")
}

func (w *wineEnv) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = w.env()
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// winPath is a Linux path as Wine's Z: drive shows it to the program.
func winPath(p string) string { return "Z:" + filepath.ToSlash(p) }

// startXvfb starts a private X server and returns its display.
func startXvfb(t *testing.T) string {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb did not say its display: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

// newWine makes the prefix and puts the ProcessPrng shim in its system32:
// Go's runtime needs bcryptprimitives.dll, which Wine has only since 9.0
// (Debian 12 has 8.0) and every Windows the kiosk supports has.
func newWine(t *testing.T, ctx context.Context) *wineEnv {
	w := &wineEnv{prefix: filepath.Join(t.TempDir(), "wine"), display: startXvfb(t)}
	t.Cleanup(func() {
		kill := exec.Command("wineserver", "-k")
		kill.Env = w.env()
		kill.Run()
	})
	start := time.Now()
	if out, err := w.command(ctx, "wineboot", "--init").CombinedOutput(); err != nil {
		t.Fatalf("wineboot: %v\n%s", err, out)
	}
	// wineboot returns while wineserver still writes the registry.
	if out, err := w.command(ctx, "wineserver", "-w").CombinedOutput(); err != nil {
		t.Fatalf("wineserver -w: %v\n%s", err, out)
	}
	t.Logf("Wine prefix made in %s", time.Since(start).Round(time.Second))
	sys32 := filepath.Join(w.prefix, "drive_c", "windows", "system32")
	if _, err := os.Stat(filepath.Join(sys32, "bcryptprimitives.dll")); errors.Is(err, os.ErrNotExist) {
		cc := exec.CommandContext(ctx, "x86_64-w64-mingw32-gcc", "-shared", "-O2", "-o", filepath.Join(sys32, "bcryptprimitives.dll"),
			"winetest/bcryptprimitives.c", "-ladvapi32")
		if out, err := cc.CombinedOutput(); err != nil {
			t.Fatalf("building the ProcessPrng shim: %v\n%s", err, out)
		}
	}
	return w
}

// run runs kiosk.exe under Wine to its end.
func (w *wineEnv) run(t *testing.T, ctx context.Context, exe string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := w.command(ctx, "wine", append([]string{exe}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("wine %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errb.String()
}

// TestKioskUnderWine: the Windows build needs no DLL Windows lacks, answers
// `kiosk version`, says in one sentence what it cannot do on Windows,
// enrols with a real hub (its keys sealed with DPAPI), and opens its first
// screen, the set-up, in a window that the test photographs. With
// SPORTELLO_WINDOWS_SHOT=FILE the photograph is kept there (the README's).
func TestKioskUnderWine(t *testing.T) {
	needTools(t, "go", "x86_64-w64-mingw32-gcc", "wine", "wineboot", "wineserver", "Xvfb", "xwininfo", "xwd", "xwdtopnm", "pnmtopng")
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()

	exe := kioskExe(t)
	if fi, err := os.Stat(exe); err == nil {
		t.Logf("kiosk.exe is %.1f MB", float64(fi.Size())/1e6)
	}
	w := newWine(t, ctx)
	checkImports(t, exe, filepath.Join(w.prefix, "drive_c", "windows", "system32"))

	start := time.Now()
	code, out, errs := w.run(t, ctx, exe, "version")
	if code != 0 || !strings.HasPrefix(out, "kiosk ") || !strings.Contains(out, "(windows/amd64, go") {
		t.Fatalf("kiosk.exe version: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	t.Logf("kiosk.exe version answered %q in %s", strings.TrimSpace(out), time.Since(start).Round(time.Millisecond))

	// What libusb did on Linux is not in the Windows build: refused in
	// one sentence, exit 1.
	for _, args := range [][]string{
		{"printer", "test", "--printer", "usb://04b8:0e15"},
		{"card", "read", "--ccid"},
	} {
		code, out, errs := w.run(t, ctx, exe, args...)
		if code != 1 || !strings.Contains(errs, "not available on Windows") {
			t.Errorf("kiosk.exe %s: exit %d, stdout %q, stderr %q; want exit 1 saying it is not available on Windows", strings.Join(args, " "), code, out, errs)
		}
	}
	code, out, errs = w.run(t, ctx, exe, "printer", "list", "--cups", "127.0.0.1:1")
	if code != 0 || !strings.Contains(out, "Windows printers:") {
		t.Errorf("kiosk.exe printer list: exit %d, stdout %q, stderr %q; want the spooler's printers listed", code, out, errs)
	}

	hub := startHub(t, ctx)
	profile := filepath.Join(t.TempDir(), "profile")
	code, out, errs = w.run(t, ctx, exe, "enrol", "--hub", hub.url, "--hub-ca", winPath(hub.ca), "--code", hub.code,
		"--profile", winPath(profile), "--name", "wine-kiosk", "--seal", "dpapi")
	if code != 0 {
		t.Fatalf("kiosk.exe enrol: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	// The app: enrolled, not set up, so its first screen is the set-up.
	app := w.command(ctx, "wine", exe, "--profile", winPath(profile), "--lang", "it")
	var appOut lockedBuffer
	app.Stdout, app.Stderr = &appOut, &appOut
	start = time.Now()
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- app.Wait() }()
	const title = "Sportello: certificati anagrafici"
	for {
		select {
		case err := <-exited:
			t.Fatalf("the kiosk exited before showing a window: %v\n%s", err, appOut.String())
		case <-ctx.Done():
			t.Fatalf("no window titled %q\n%s", title, appOut.String())
		case <-time.After(250 * time.Millisecond):
		}
		tree, _ := exec.Command("xwininfo", "-display", w.display, "-root", "-tree").Output()
		if strings.Contains(string(tree), title) {
			break
		}
	}
	t.Logf("window shown %s after starting wine", time.Since(start).Round(time.Millisecond))

	// The window is mapped before Fyne draws into it: photograph it once
	// the picture stops changing.
	var img image.Image
	var prev string
	for i := 0; ; i++ {
		time.Sleep(time.Second)
		cur, raw := screenshot(t, w.display)
		if cur != nil && raw == prev && colours(cur) > 16 {
			img = cur
			break
		}
		if i == 60 {
			t.Fatalf("the kiosk's window did not settle on a drawn screen within a minute\n%s", appOut.String())
		}
		prev = raw
	}
	if keep := os.Getenv("SPORTELLO_WINDOWS_SHOT"); keep != "" {
		f, err := os.Create(keep)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	t.Logf("screen drawn %s after starting wine (%d colours)", time.Since(start).Round(time.Millisecond), colours(img))
	select {
	case err := <-exited:
		t.Fatalf("the kiosk exited while its screen was photographed: %v\n%s", err, appOut.String())
	default:
	}
	app.Process.Signal(syscall.SIGTERM)
}

// checkImports: every DLL kiosk.exe imports is one Windows has (Wine's
// system32 holds Windows' own set), so the zip needs no DLL of its own.
func checkImports(t *testing.T, exe, sys32 string) {
	f, err := pe.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// ImportedLibraries is empty for Go's PE files; the symbols name their
	// DLL after a colon.
	syms, err := f.ImportedSymbols()
	if err != nil {
		t.Fatal(err)
	}
	var libs []string
	seenLib := map[string]bool{}
	for _, s := range syms {
		_, lib, ok := strings.Cut(s, ":")
		if ok && !seenLib[strings.ToLower(lib)] {
			seenLib[strings.ToLower(lib)] = true
			libs = append(libs, lib)
		}
	}
	if len(libs) == 0 {
		t.Fatal("kiosk.exe names no imported DLL: the import table was not read")
	}
	entries, err := os.ReadDir(sys32)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[strings.ToLower(e.Name())] = true
	}
	for _, lib := range libs {
		if !have[strings.ToLower(lib)] {
			t.Errorf("kiosk.exe imports %s, which is not one of Windows' DLLs: the zip would need it", lib)
		}
	}
	t.Logf("kiosk.exe imports %s", strings.Join(libs, ", "))
}

// screenshot reads the whole X screen: the picture and its raw bytes (to
// tell when drawing stopped).
func screenshot(t *testing.T, display string) (image.Image, string) {
	cmd := exec.Command("bash", "-c", "set -o pipefail; xwd -root -silent -display "+display+" | xwdtopnm 2>/dev/null | pnmtopng")
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("xwd | xwdtopnm | pnmtopng: %v", err)
	}
	img, err := png.Decode(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("decoding the screenshot: %v", err)
	}
	return img, string(raw)
}

// colours counts distinct colours, up to 1000: an undrawn window is one
// or two.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= 1000 {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// lockedBuffer collects a process's output written from two pipes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// demoHub is `hub serve --demo` on a loopback port, built for Linux: the
// kiosk under Wine reaches it over TCP as a shop's PC reaches the city's.
type demoHub struct {
	url, code, ca string
}

func startHub(t *testing.T, ctx context.Context) *demoHub {
	bin := filepath.Join(t.TempDir(), "hub")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/hub")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the hub: %v\n%s", err, out)
	}
	data := filepath.Join(t.TempDir(), "hub")
	cmd := exec.Command(bin, "serve", "--demo", "--data", data, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "SPORTELLO_PUBLIC_URL=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	h := &demoHub{ca: filepath.Join(data, "tls", "cert.pem")}
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(5*time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for h.url == "" && sc.Scan() {
		l := sc.Text()
		if c, ok := strings.CutPrefix(l, "enrolment code: "); ok {
			h.code = c
		}
		if u, ok := strings.CutPrefix(l, "hub listening on "); ok {
			h.url = u
		}
	}
	if h.url == "" || h.code == "" {
		t.Fatal("the demo hub did not start (or printed no enrolment code) within 5 minutes")
	}
	go io.Copy(io.Discard, out)
	return h
}
