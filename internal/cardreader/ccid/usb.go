//go:build !windows

package ccid

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/gousb"
)

// USBReader is a CCID reader opened over USB.
type USBReader struct {
	usb  *gousb.Context
	dev  *gousb.Device
	done func()
	in   *gousb.InEndpoint
	out  *gousb.OutEndpoint
	intr *gousb.InEndpoint
	Name string
	info Info
}

// OpenUSB opens the first USB device with a CCID interface and claims it.
func OpenUSB() (*USBReader, error) {
	devs, err := OpenUSBAll()
	if err != nil {
		return nil, err
	}
	first, last := devs[0].(*USBReader), devs[len(devs)-1].(*USBReader)
	first.usb, last.usb = last.usb, first.usb // the one kept owns the context
	for _, d := range devs[1:] {
		d.Close()
	}
	return first, nil
}

// OpenUSBAll opens and claims every USB device with a CCID interface.
func OpenUSBAll() ([]Device, error) {
	uc := gousb.NewContext()
	devs, err := uc.OpenDevices(func(d *gousb.DeviceDesc) bool {
		for _, cfg := range d.Configs {
			for _, intf := range cfg.Interfaces {
				for _, alt := range intf.AltSettings {
					if alt.Class == ClassSmartCard {
						return true
					}
				}
			}
		}
		return false
	})
	if len(devs) == 0 {
		uc.Close()
		if err != nil {
			return nil, fmt.Errorf("listing USB devices: %w", err)
		}
		return nil, ErrNoUSBReader
	}
	var out []Device
	var errs []error
	for i, dev := range devs {
		dev.SetAutoDetach(true)
		// One libusb context serves all readers; the last one closes it.
		r := &USBReader{dev: dev}
		if i == len(devs)-1 {
			r.usb = uc
		}
		if err := r.claim(); err != nil {
			errs = append(errs, err)
			dev.Close()
			continue
		}
		r.Name, _ = dev.Product()
		if r.Name == "" {
			r.Name = fmt.Sprintf("USB CCID %s:%s", dev.Desc.Vendor, dev.Desc.Product)
		}
		r.info = r.readInfo()
		out = append(out, r)
	}
	if len(out) == 0 {
		uc.Close()
		return nil, fmt.Errorf("no CCID reader could be claimed: %w", errors.Join(errs...))
	}
	return out, nil
}

// readInfo reads the CCID class descriptor from the raw configuration
// descriptor, which gousb does not parse.
func (r *USBReader) readInfo() Info {
	info := Info{Name: r.Name, Slots: 1, Level: LevelShortAPDU}
	head := make([]byte, 9)
	if n, err := r.dev.Control(0x80, 0x06, 0x0200, 0, head); err != nil || n < 4 {
		return info
	}
	raw := make([]byte, binary.LittleEndian.Uint16(head[2:4]))
	n, err := r.dev.Control(0x80, 0x06, 0x0200, 0, raw)
	if err != nil {
		return info
	}
	if slots, level, ok := ParseClassDescriptor(raw[:n]); ok {
		info.Slots, info.Level = slots, level
	}
	return info
}

// Info describes the reader.
func (r *USBReader) Info() Info { return r.info }

// Interrupt waits for a NotifySlotChange message.
func (r *USBReader) Interrupt(ctx context.Context) ([]byte, error) {
	if r.intr == nil {
		return nil, ErrNoInterrupt
	}
	buf := make([]byte, 64)
	n, err := r.intr.ReadContext(ctx, buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

func (r *USBReader) claim() error {
	for _, cfg := range r.dev.Desc.Configs {
		for _, intf := range cfg.Interfaces {
			for _, alt := range intf.AltSettings {
				if alt.Class != ClassSmartCard {
					continue
				}
				c, err := r.dev.Config(cfg.Number)
				if err != nil {
					return fmt.Errorf("selecting the reader's USB configuration: %w", err)
				}
				i, err := c.Interface(intf.Number, alt.Alternate)
				if err != nil {
					c.Close()
					return fmt.Errorf("claiming the reader's CCID interface: %w", err)
				}
				r.done = func() { i.Close(); c.Close() }
				for _, ep := range alt.Endpoints {
					if ep.TransferType == gousb.TransferTypeInterrupt && ep.Direction == gousb.EndpointDirectionIn && r.intr == nil {
						if r.intr, err = i.InEndpoint(ep.Number); err != nil {
							return err
						}
						continue
					}
					if ep.TransferType != gousb.TransferTypeBulk {
						continue
					}
					if ep.Direction == gousb.EndpointDirectionIn && r.in == nil {
						r.in, err = i.InEndpoint(ep.Number)
					} else if ep.Direction == gousb.EndpointDirectionOut && r.out == nil {
						r.out, err = i.OutEndpoint(ep.Number)
					}
					if err != nil {
						return err
					}
				}
				if r.in == nil || r.out == nil {
					return errors.New("the reader's CCID interface lacks bulk endpoints")
				}
				return nil
			}
		}
	}
	return ErrNoUSBReader
}

// Write sends one message to bulk OUT.
func (r *USBReader) Write(ctx context.Context, msg []byte) error {
	_, err := r.out.WriteContext(ctx, msg)
	return err
}

// Read reads one message from bulk IN, across packets when it is long.
func (r *USBReader) Read(ctx context.Context) ([]byte, error) {
	buf := make([]byte, maxMessage)
	n, err := r.in.ReadContext(ctx, buf)
	if err != nil {
		return nil, err
	}
	msg := buf[:n]
	for len(msg) >= headerSize {
		if want := headerSize + int(binary.LittleEndian.Uint32(msg[1:5])); len(msg) >= want || want > maxMessage {
			break
		}
		m, err := r.in.ReadContext(ctx, buf[len(msg):])
		if err != nil {
			return nil, err
		}
		if m == 0 {
			break
		}
		msg = buf[:len(msg)+m]
	}
	return msg, nil
}

// Close releases the interface and the device.
func (r *USBReader) Close() error {
	if r.done != nil {
		r.done()
	}
	err := r.dev.Close()
	if r.usb != nil {
		err = errors.Join(err, r.usb.Close())
	}
	return err
}
