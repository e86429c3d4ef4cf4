//go:build !windows

package usb

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/gousb"

	"github.com/sportello/sportello/printer"
)

// libusbDevice is a Device on a real printer through gousb.
type libusbDevice struct {
	ctx  *gousb.Context
	dev  *gousb.Device
	cfg  *gousb.Config
	intf *gousb.Interface
	out  *gousb.OutEndpoint
	in   *gousb.InEndpoint // nil on one-way printers
}

func (d *libusbDevice) Control(rType, request uint8, val, idx uint16, data []byte) (int, error) {
	return d.dev.Control(rType, request, val, idx, data)
}

func (d *libusbDevice) WriteBulk(ctx context.Context, p []byte) (int, error) {
	return d.out.WriteContext(ctx, p)
}

func (d *libusbDevice) ReadBulk(ctx context.Context, p []byte) (int, error) {
	if d.in == nil {
		return 0, ErrNoIn
	}
	return d.in.ReadContext(ctx, p)
}

func (d *libusbDevice) Close() error {
	if d.intf != nil {
		d.intf.Close()
	}
	var errs []error
	if d.cfg != nil {
		errs = append(errs, d.cfg.Close())
	}
	errs = append(errs, d.dev.Close(), d.ctx.Close())
	return errors.Join(errs...)
}

// printerSetting is where in a device's descriptors its printer interface is.
type printerSetting struct {
	cfgNum, cfgIndex int
	iface            Interface
	out, in          int // endpoint numbers; in is -1 when absent
}

// findPrinter picks the printer-class setting, preferring bidirectional
// (protocol 2) so status can be read, and skipping IEEE 1284.4 (protocol 3),
// which needs a packet protocol on top.
func findPrinter(desc *gousb.DeviceDesc) (printerSetting, bool) {
	var best printerSetting
	found := false
	for idx := 1; idx <= len(desc.Configs); idx++ {
		cfg, ok := desc.Configs[idx]
		if !ok {
			continue
		}
		for _, intf := range cfg.Interfaces {
			for _, alt := range intf.AltSettings {
				if alt.Class != gousb.ClassPrinter || alt.Protocol < 1 || alt.Protocol > 2 {
					continue
				}
				s := printerSetting{cfgNum: cfg.Number, cfgIndex: idx - 1, out: -1, in: -1,
					iface: Interface{Config: idx - 1, Number: alt.Number, Alternate: alt.Alternate, Protocol: int(alt.Protocol)}}
				for _, ep := range alt.Endpoints {
					if ep.TransferType != gousb.TransferTypeBulk {
						continue
					}
					if ep.Direction == gousb.EndpointDirectionIn {
						s.in = ep.Number
					} else {
						s.out = ep.Number
					}
				}
				if s.out < 0 {
					continue
				}
				if !found || s.iface.Protocol > best.iface.Protocol {
					best, found = s, true
				}
			}
		}
	}
	return best, found
}

// Open finds the printer a usb:// URI names, detaches the kernel's usblp
// driver from it, claims its printer interface and reads its device ID to
// decide how to ask status.
func Open(uri string) (*Printer, error) {
	addr, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	uctx := gousb.NewContext()
	devs, err := uctx.OpenDevices(func(d *gousb.DeviceDesc) bool {
		_, ok := findPrinter(d)
		return ok && uint16(d.Vendor) == addr.Vendor && uint16(d.Product) == addr.Product
	})
	var dev *gousb.Device
	for _, d := range devs {
		if dev == nil && (addr.Serial == "" || serialOf(d) == addr.Serial) {
			dev = d
			continue
		}
		d.Close()
	}
	if dev == nil {
		uctx.Close()
		if err != nil {
			return nil, fmt.Errorf("cannot open USB printer %s: %w", addr, err)
		}
		return nil, fmt.Errorf("no USB printer %s is connected", addr)
	}
	d := &libusbDevice{ctx: uctx, dev: dev}
	fail := func(format string, a ...any) (*Printer, error) {
		d.Close()
		return nil, fmt.Errorf("USB printer %s: "+format, append([]any{addr}, a...)...)
	}
	if err := dev.SetAutoDetach(true); err != nil {
		return fail("cannot detach the usblp kernel driver: %w", err)
	}
	s, _ := findPrinter(dev.Desc)
	if d.cfg, err = dev.Config(s.cfgNum); err != nil {
		return fail("cannot select configuration %d: %w", s.cfgNum, err)
	}
	if d.intf, err = d.cfg.Interface(s.iface.Number, s.iface.Alternate); err != nil {
		return fail("cannot claim interface %d: %w", s.iface.Number, err)
	}
	if d.out, err = d.intf.OutEndpoint(s.out); err != nil {
		return fail("cannot open bulk OUT endpoint %d: %w", s.out, err)
	}
	if s.in >= 0 {
		if d.in, err = d.intf.InEndpoint(s.in); err != nil {
			return fail("cannot open bulk IN endpoint %d: %w", s.in, err)
		}
	}
	p := New(d, s.iface)
	if id, err := p.DeviceID(); err == nil {
		p.ESCPOS = speaksESCPOS(id)
	}
	return p, nil
}

func serialOf(d *gousb.Device) string {
	s, err := d.SerialNumber()
	if err != nil {
		return ""
	}
	return s
}

// List finds every connected USB printer-class device and reads its IEEE
// 1284 ID. The kernel driver is detached only while the ID is read.
func List() ([]Info, error) {
	uctx := gousb.NewContext()
	defer uctx.Close()
	devs, err := uctx.OpenDevices(func(d *gousb.DeviceDesc) bool {
		_, ok := findPrinter(d)
		return ok
	})
	var out []Info
	for _, dev := range devs {
		info := Info{Address: Address{Vendor: uint16(dev.Desc.Vendor), Product: uint16(dev.Desc.Product), Serial: serialOf(dev)},
			Bus: dev.Desc.Bus, Dev: dev.Desc.Address}
		info.ID, info.Err = readID(dev)
		out = append(out, info)
		dev.Close()
	}
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("cannot list USB devices: %w", err)
	}
	return out, nil
}

func readID(dev *gousb.Device) (printer.DeviceID, error) {
	s, _ := findPrinter(dev.Desc)
	if err := dev.SetAutoDetach(true); err != nil {
		return printer.DeviceID{}, err
	}
	cfg, err := dev.Config(s.cfgNum)
	if err != nil {
		return printer.DeviceID{}, err
	}
	defer cfg.Close()
	intf, err := cfg.Interface(s.iface.Number, s.iface.Alternate)
	if err != nil {
		return printer.DeviceID{}, err
	}
	defer intf.Close()
	return New(&libusbDevice{dev: dev}, s.iface).DeviceID()
}
