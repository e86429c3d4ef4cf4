//go:build windows

package keystore

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// DPAPI seals with Windows' Data Protection API for the user the kiosk runs
// as: the ciphertext opens only in that user's log-on session on this
// machine, with keys Windows derives from the user's credentials (and the
// TPM where Windows uses one).
type DPAPI struct{}

func (DPAPI) Method() string { return MethodDPAPI }

// dpapiEntropy is DPAPI's optional entropy: another program of the same
// user calling CryptUnprotectData on the blob without it gets nothing.
var dpapiEntropy = []byte("sportello kiosk keys v1")

func blob(b []byte) *windows.DataBlob {
	if len(b) == 0 {
		return &windows.DataBlob{}
	}
	return &windows.DataBlob{Size: uint32(len(b)), Data: &b[0]}
}

// take copies DPAPI's output and frees the buffer Windows allocated.
func take(out windows.DataBlob) []byte {
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return append([]byte(nil), unsafe.Slice(out.Data, out.Size)...)
}

func (DPAPI) Seal(plain []byte) (Sealed, error) {
	name, _ := windows.UTF16PtrFromString("Sportello kiosk keys")
	var out windows.DataBlob
	if err := windows.CryptProtectData(blob(plain), name, blob(dpapiEntropy), 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out); err != nil {
		return Sealed{}, fmt.Errorf("DPAPI could not seal the kiosk's keys: %w", err)
	}
	return Sealed{Method: MethodDPAPI, Data: take(out)}, nil
}

func dpapiOpen(data []byte) ([]byte, error) {
	var out windows.DataBlob
	if err := windows.CryptUnprotectData(blob(data), nil, blob(dpapiEntropy), 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out); err != nil {
		return nil, fmt.Errorf("DPAPI could not open the kiosk's keys (sealed by another Windows user or machine): %w", err)
	}
	return take(out), nil
}

// dpapiAvailable: every Windows since 2000 has DPAPI.
func dpapiAvailable() bool { return true }
