package usb

import "errors"

// ErrNoDirectUSB is a usb:// printer on Windows. libusb is not linked into
// the Windows build: Windows gives a USB printer to its own driver, and the
// kiosk reaches it through the print spooler instead.
var ErrNoDirectUSB = errors.New("usb:// printers are not available on Windows: install the printer in Windows and use its queue, winspool://NAME (kiosk printer list shows the names)")

// Open says that direct USB is not available on Windows.
func Open(string) (*Printer, error) { return nil, ErrNoDirectUSB }

// List finds nothing on Windows: USB printers are the spooler's queues
// there, listed by transport.ListSpooler.
func List() ([]Info, error) { return nil, nil }
