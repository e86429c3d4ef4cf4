package ccid

import "errors"

// ErrNoDirectUSB is --ccid on Windows: libusb is not linked into the Windows
// build, and there Windows' own smart-card service (winscard, reached
// through PC/SC) already drives every CCID reader.
var ErrNoDirectUSB = errors.New("direct USB access to card readers (--ccid) is not available on Windows: leave --ccid out and the reader is used through Windows' smart-card service (PC/SC)")

// OpenUSBAll says that direct USB is not available on Windows.
func OpenUSBAll() ([]Device, error) { return nil, ErrNoDirectUSB }
