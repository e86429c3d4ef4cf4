//go:build !windows

package keystore

import "errors"

// DPAPI is Windows' Data Protection API; elsewhere it refuses.
type DPAPI struct{}

func (DPAPI) Method() string { return MethodDPAPI }

var errNoDPAPI = errors.New("the kiosk profile is sealed with Windows DPAPI, which opens only on the Windows machine and user that sealed it")

func (DPAPI) Seal([]byte) (Sealed, error) {
	return Sealed{}, errors.New("DPAPI exists only on Windows")
}

func dpapiOpen([]byte) ([]byte, error) { return nil, errNoDPAPI }

func dpapiAvailable() bool { return false }
