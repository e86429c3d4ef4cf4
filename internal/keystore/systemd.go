package keystore

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// credName is the name systemd-creds binds into the credential: a
// credential made for another purpose does not open as the kiosk's keys.
const credName = "sportello-kiosk-keys"

// SystemdCreds seals with systemd-creds(1), by default to this machine's
// TPM2: the ciphertext opens only on the chip that sealed it, so neither a
// copy of the profile nor of the whole disk opens it elsewhere.
// systemd-creds works without systemd running as PID 1.
type SystemdCreds struct {
	// Bin is the systemd-creds binary; found on the PATH when empty.
	Bin string
	// WithKey is systemd-creds' --with-key: tpm2 when empty. Tests use
	// host, with SYSTEMD_CREDENTIAL_SECRET pointing at a host key of their
	// own, because test machines have no TPM2.
	WithKey string
}

func (s *SystemdCreds) Method() string { return MethodSystemdCreds }

func (s *SystemdCreds) bin() string {
	if s.Bin != "" {
		return s.Bin
	}
	return "systemd-creds"
}

func (s *SystemdCreds) Seal(plain []byte) (Sealed, error) {
	with := s.WithKey
	if with == "" {
		with = "tpm2"
	}
	out, err := s.run(plain, "encrypt", "--name="+credName, "--with-key="+with, "-", "-")
	if err != nil {
		return Sealed{}, fmt.Errorf("systemd-creds could not seal the kiosk's keys with --with-key=%s: %w", with, err)
	}
	return Sealed{Method: MethodSystemdCreds, Data: out}, nil
}

func (s *SystemdCreds) open(data []byte) ([]byte, error) {
	out, err := s.run(data, "decrypt", "--name="+credName, "-", "-")
	if err != nil {
		return nil, fmt.Errorf("systemd-creds could not open the kiosk's keys (sealed on another machine, or its TPM2 or host key changed): %w", err)
	}
	return out, nil
}

func (s *SystemdCreds) run(in []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(s.bin(), args...)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("%s", lastLine(stderr.String(), ee.Error()))
		}
		return nil, err
	}
	return stdout.Bytes(), nil
}

// TPM2 reports whether systemd-creds can seal to a TPM2 here: its has-tpm2
// verb exits 0 only when firmware, driver, systemd and its TPM2 library all
// support it. When not, why says what it found.
func (s *SystemdCreds) TPM2() (ok bool, why string) {
	cmd := exec.Command(s.bin(), "has-tpm2")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil {
		return true, ""
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false, fmt.Sprintf("systemd-creds is not available (%v)", err)
	}
	// has-tpm2 prints its verdict and then one line per component, each
	// marked + or -; the missing ones are what an installer needs.
	lines := strings.Fields(out.String())
	var missing []string
	for _, l := range lines {
		if c, ok := strings.CutPrefix(l, "-"); ok {
			missing = append(missing, c)
		}
	}
	verdict := "no"
	if len(lines) > 0 && !strings.HasPrefix(lines[0], "+") && !strings.HasPrefix(lines[0], "-") {
		verdict = lines[0]
	}
	if len(missing) == 0 {
		return false, fmt.Sprintf("systemd-creds has-tpm2 says %s", verdict)
	}
	return false, fmt.Sprintf("systemd-creds has-tpm2 says %s, missing %s", verdict, strings.Join(missing, ", "))
}

func lastLine(s, fallback string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return fallback
	}
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
