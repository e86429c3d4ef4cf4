package ccid

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/gousb"
)

// ClassSmartCard is the USB interface class of CCID readers.
const ClassSmartCard = 0x0B

// USBReader is a CCID reader opened over USB.
type USBReader struct {
	usb  *gousb.Context
	dev  *gousb.Device
	done func()
	in   *gousb.InEndpoint
	out  *gousb.OutEndpoint
	Name string
}

// ErrNoUSBReader means no USB device offers a smart-card interface.
var ErrNoUSBReader = errors.New("no USB smart-card (CCID) reader is connected")

// OpenUSB opens the first USB device with a CCID interface and claims it.
func OpenUSB() (*USBReader, error) {
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
	for _, d := range devs[min(1, len(devs)):] {
		d.Close()
	}
	if len(devs) == 0 {
		uc.Close()
		if err != nil {
			return nil, fmt.Errorf("listing USB devices: %w", err)
		}
		return nil, ErrNoUSBReader
	}
	dev := devs[0]
	dev.SetAutoDetach(true)
	r := &USBReader{usb: uc, dev: dev}
	if err := r.claim(); err != nil {
		dev.Close()
		uc.Close()
		return nil, err
	}
	r.Name, _ = dev.Product()
	return r, nil
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
	r.dev.Close()
	return r.usb.Close()
}
