//go:build !windows

package transport

import (
	"errors"

	"github.com/sportello/sportello/printer"
)

// ErrNoSpooler is a winspool:// printer anywhere but on Windows.
var ErrNoSpooler = errors.New("winspool:// printers are queues of the Windows print spooler, and this kiosk is not running on Windows: use ipp://, tcp://, usb:// or lp:// here")

func openSpooler(string) (printer.Transport, error) { return nil, ErrNoSpooler }

// ListSpooler finds nothing where there is no Windows spooler.
func ListSpooler() ([]SpoolerQueue, error) { return nil, nil }
