package keystore

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// Seal methods as `kiosk enrol --seal` names them.
const (
	SealAuto       = "auto"
	SealTPM2       = "tpm2"
	SealDPAPI      = "dpapi"
	SealPassphrase = "passphrase"
)

// SealMethods lists the names Choose accepts.
var SealMethods = []string{SealAuto, SealTPM2, SealDPAPI, SealPassphrase}

// Choose returns the sealer for a --seal name. auto is DPAPI on Windows,
// systemd-creds with the TPM2 on Linux when there is a usable one, and a
// passphrase otherwise; note says what was chosen and why. secret is asked
// only when a passphrase is chosen. sc is the systemd-creds to use (the
// default when nil).
func Choose(name string, sc *SystemdCreds, secret Secret) (s Sealer, note string, err error) {
	if sc == nil {
		sc = &SystemdCreds{}
	}
	passphrase := func(why string) (Sealer, string, error) {
		if secret == nil {
			return nil, "", errors.New("sealing with a passphrase needs one, and none was given")
		}
		pass, err := secret()
		if err != nil {
			return nil, "", err
		}
		if err := CheckPassphrase(pass); err != nil {
			return nil, "", err
		}
		return &Passphrase{Secret: pass}, why, nil
	}
	switch name {
	case SealPassphrase:
		return passphrase("the keys are sealed with the staff's passphrase")
	case SealDPAPI:
		if !dpapiAvailable() {
			return nil, "", errors.New("--seal dpapi: DPAPI exists only on Windows; use --seal tpm2 or passphrase")
		}
		return DPAPI{}, "the keys are sealed with Windows DPAPI for this user", nil
	case SealTPM2:
		if runtime.GOOS != "linux" {
			return nil, "", errors.New("--seal tpm2 uses systemd-creds, which exists only on Linux; use --seal dpapi or passphrase")
		}
		if ok, why := sc.TPM2(); !ok {
			return nil, "", fmt.Errorf("--seal tpm2: this machine has no usable TPM2 (%s); seal with --seal passphrase instead", why)
		}
		return sc, "the keys are sealed with systemd-creds to this machine's TPM2", nil
	case SealAuto, "":
		if dpapiAvailable() {
			return DPAPI{}, "the keys are sealed with Windows DPAPI for this user", nil
		}
		if runtime.GOOS != "linux" {
			return passphrase("the keys are sealed with the staff's passphrase: this system has no credential store the kiosk uses")
		}
		ok, why := sc.TPM2()
		if !ok {
			return passphrase("the keys are sealed with the staff's passphrase: " + why)
		}
		// A TPM2 the kiosk's user may not open (not in the tss group)
		// shows only when used: try, and fall back to the passphrase.
		if _, err := sc.Seal([]byte("probe")); err != nil {
			return passphrase("the keys are sealed with the staff's passphrase: " + err.Error())
		}
		return sc, "the keys are sealed with systemd-creds to this machine's TPM2", nil
	}
	return nil, "", fmt.Errorf("--seal %q is not one of %s", name, strings.Join(SealMethods, ", "))
}

// Prompt asks for a passphrase on the terminal in, without echo, writing
// the prompt to w; with confirm it asks twice and refuses two different
// ones. ok is false, and nothing is read, when in is not a terminal.
func Prompt(in *os.File, w io.Writer, prompt string, confirm bool) (pass []byte, ok bool, err error) {
	restore, ok := noEcho(in)
	if !ok {
		return nil, false, nil
	}
	defer restore()
	r := bufio.NewReader(in)
	fmt.Fprint(w, prompt)
	a, err := r.ReadString('\n')
	fmt.Fprintln(w)
	if err != nil {
		return nil, true, errors.New("no passphrase was typed")
	}
	if confirm {
		fmt.Fprint(w, "again: ")
		b, err := r.ReadString('\n')
		fmt.Fprintln(w)
		if err != nil {
			return nil, true, errors.New("no passphrase was typed")
		}
		if a != b {
			return nil, true, errors.New("the two passphrases typed differ")
		}
	}
	return []byte(strings.TrimRight(a, "\r\n")), true, nil
}
