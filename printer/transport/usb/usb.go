// Package usb drives receipt and office printers over the USB printer class
// (class 7) with libusb through gousb. It needs cgo and libusb-1.0, so it is
// its own package that only the kiosk imports; the hub never links it.
//
// The protocol logic works on a Device interface, so it is tested with
// recorded transfers: these machines have no USB printers.
package usb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
)

// Printer class requests (USB Device Class Definition for Printing
// Devices 1.1, section 4.2).
const (
	reqGetDeviceID  = 0
	reqGetPortStat  = 1
	reqSoftReset    = 2
	classInIface    = 0xA1 // device-to-host, class, interface
	classOutOther   = 0x23 // host-to-device, class, "other": the recipient Linux's usblp uses, after the spec's own example
	deviceIDMaxSize = 1024
)

// ErrNoIn is a Device without a bulk IN endpoint (a one-way printer).
var ErrNoIn = errors.New("the printer has no bulk IN endpoint")

// Device is the part of an opened, claimed USB printer interface the
// transport uses.
type Device interface {
	Control(rType, request uint8, val, idx uint16, data []byte) (int, error)
	WriteBulk(ctx context.Context, p []byte) (int, error)
	ReadBulk(ctx context.Context, p []byte) (int, error) // ErrNoIn if unidirectional
	Close() error
}

// Interface says which printer-class interface of the device is claimed.
type Interface struct {
	Config    int // configuration index (0 for nearly every printer)
	Number    int
	Alternate int
	// Protocol: 1 unidirectional, 2 bidirectional, 3 IEEE 1284.4.
	Protocol int
}

// Printer is a USB printer-class transport.
type Printer struct {
	dev     Device
	iface   Interface
	Timeout time.Duration // per bulk transfer; transport.DefaultTimeout-like default
	// ESCPOS: ask status with DLE EOT over bulk IN; otherwise (or on a
	// one-way printer) GET_PORT_STATUS, which knows only paper and errors.
	ESCPOS bool
	mu     sync.Mutex
}

// New wraps an opened device.
func New(dev Device, iface Interface) *Printer {
	return &Printer{dev: dev, iface: iface, Timeout: 10 * time.Second}
}

// DeviceID asks GET_DEVICE_ID: wValue is the configuration index, wIndex
// the interface in the high byte and alternate setting in the low byte.
func (p *Printer) DeviceID() (printer.DeviceID, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	buf := make([]byte, deviceIDMaxSize)
	n, err := p.dev.Control(classInIface, reqGetDeviceID, uint16(p.iface.Config), uint16(p.iface.Number<<8|p.iface.Alternate), buf)
	if err != nil {
		return printer.DeviceID{}, fmt.Errorf("GET_DEVICE_ID failed: %w", err)
	}
	return printer.ParseDeviceIDPrefixed(buf[:n])
}

// PortStatus asks GET_PORT_STATUS for the 1284 status byte.
func (p *Printer) PortStatus() (byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b [1]byte
	n, err := p.dev.Control(classInIface, reqGetPortStat, 0, uint16(p.iface.Number), b[:])
	if err != nil {
		return 0, fmt.Errorf("GET_PORT_STATUS failed: %w", err)
	}
	if n != 1 {
		return 0, fmt.Errorf("GET_PORT_STATUS returned %d bytes instead of 1", n)
	}
	return b[0], nil
}

// SoftReset flushes the printer's buffers after a job was abandoned.
func (p *Printer) SoftReset() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.dev.Control(classOutOther, reqSoftReset, 0, uint16(p.iface.Number), nil); err != nil {
		return fmt.Errorf("SOFT_RESET failed: %w", err)
	}
	return nil
}

// Send writes the job to bulk OUT in chunks, each with its own timeout, so
// a printer that stops taking data (paper out) is noticed.
func (p *Printer) Send(ctx context.Context, job printer.Job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	const chunk = 4096
	data := job.Data
	for len(data) > 0 {
		n := min(chunk, len(data))
		cctx, cancel := context.WithTimeout(ctx, p.Timeout)
		w, err := p.dev.WriteBulk(cctx, data[:n])
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("the USB printer took no data for %v after %d of %d bytes", p.Timeout, len(job.Data)-len(data), len(job.Data))
			}
			return fmt.Errorf("USB bulk write failed: %w", err)
		}
		data = data[w:]
	}
	return nil
}

// Status reads DLE EOT 1-4 on a bidirectional ESC/POS printer, else the
// port status.
func (p *Printer) Status(ctx context.Context) (printer.Status, error) {
	if p.ESCPOS && p.iface.Protocol >= 2 {
		st, err := p.dleStatus(ctx)
		if !errors.Is(err, ErrNoIn) {
			return st, err
		}
	}
	b, err := p.PortStatus()
	if err != nil {
		return printer.Status{}, err
	}
	return printer.PortStatus(b), nil
}

func (p *Printer) dleStatus(ctx context.Context) (printer.Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ans [4]byte
	buf := make([]byte, 64) // bulk IN reads a whole packet
	for i, n := range escpos.StatusQueries {
		cctx, cancel := context.WithTimeout(ctx, p.Timeout)
		_, err := p.dev.WriteBulk(cctx, escpos.StatusQuery(n))
		if err == nil {
			var got int
			got, err = p.dev.ReadBulk(cctx, buf)
			if err == nil && got == 0 {
				err = fmt.Errorf("empty answer")
			}
			if err == nil {
				// A printer may have queued an automatic status; the
				// answer to this request is the last byte.
				ans[i] = buf[got-1]
			}
		}
		cancel()
		if errors.Is(err, ErrNoIn) {
			return printer.Status{}, err
		}
		if err != nil {
			return printer.Status{}, fmt.Errorf("USB status request DLE EOT %d failed: %w", n, err)
		}
	}
	return escpos.ParseStatus(ans)
}

func (p *Printer) Close() error { return p.dev.Close() }

// Address is a parsed usb://VID:PID[/SERIAL].
type Address struct {
	Vendor, Product uint16
	Serial          string
}

func (a Address) String() string {
	s := fmt.Sprintf("usb://%04x:%04x", a.Vendor, a.Product)
	if a.Serial != "" {
		s += "/" + a.Serial
	}
	return s
}

// ParseURI parses usb://VID:PID[/SERIAL] with hexadecimal IDs.
func ParseURI(uri string) (Address, error) {
	rest, ok := strings.CutPrefix(uri, "usb://")
	if !ok {
		return Address{}, fmt.Errorf("printer %q is not a usb://VID:PID[/SERIAL] URI", uri)
	}
	ids, serial, _ := strings.Cut(rest, "/")
	v, pr, ok := strings.Cut(ids, ":")
	vid, err1 := strconv.ParseUint(v, 16, 16)
	pid, err2 := strconv.ParseUint(pr, 16, 16)
	if !ok || err1 != nil || err2 != nil {
		return Address{}, fmt.Errorf("printer %q does not give VID:PID as two 4-digit hexadecimal numbers", uri)
	}
	return Address{Vendor: uint16(vid), Product: uint16(pid), Serial: serial}, nil
}

// Info is one connected USB printer.
type Info struct {
	Address  Address
	Bus, Dev int
	ID       printer.DeviceID
	Err      error // why the ID could not be read
}

// URI is the address to give `kiosk printer test --printer`.
func (i Info) URI() string { return i.Address.String() }

// speaksESCPOS says whether a device ID lists ESC/POS among its command sets.
func speaksESCPOS(id printer.DeviceID) bool {
	for _, c := range id.Commands {
		if strings.EqualFold(strings.ReplaceAll(c, "/", ""), "ESCPOS") {
			return true
		}
	}
	return false
}
