//go:build !linux && !windows

package keystore

import "os"

// noEcho: on other systems the kiosk does not prompt; the passphrase comes
// from stdin or a file.
func noEcho(*os.File) (restore func(), ok bool) { return nil, false }
