//go:build windows

package keystore

import (
	"os"

	"golang.org/x/sys/windows"
)

// noEcho turns off the console's echo on f and returns how to restore it;
// ok is false when f is not a console.
func noEcho(f *os.File) (restore func(), ok bool) {
	h := windows.Handle(f.Fd())
	var mode uint32
	if err := windows.GetConsoleMode(h, &mode); err != nil {
		return nil, false
	}
	if err := windows.SetConsoleMode(h, mode&^windows.ENABLE_ECHO_INPUT); err != nil {
		return nil, false
	}
	return func() { windows.SetConsoleMode(h, mode) }, true
}
