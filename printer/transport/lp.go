package transport

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/sportello/sportello/printer"
)

// LP is a printer on Linux's usblp driver, /dev/usb/lpN: writes go to the
// bulk OUT endpoint, and the port status comes from an ioctl.
type LP struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// OpenLP opens a usblp device node for writing.
func OpenLP(path string) (*LP, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot open printer device %s: %w", path, err)
	}
	return &LP{path: path, f: f}, nil
}

func (l *LP) Send(ctx context.Context, job printer.Job) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	// usblp blocks while the printer is out of paper; a deadline turns that
	// into an error the operator sees.
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(DefaultTimeout + time.Duration(len(job.Data)/1024)*time.Second)
	}
	l.f.SetWriteDeadline(dl)
	if _, err := l.f.Write(job.Data); err != nil {
		return fmt.Errorf("writing to %s: %w", l.path, err)
	}
	return nil
}

func (l *LP) Status(context.Context) (printer.Status, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, err := lpPortStatus(l.f)
	if err != nil {
		return printer.Status{}, err
	}
	return printer.PortStatus(b), nil
}

func (l *LP) Close() error { return l.f.Close() }

// LPDevice is one /dev/usb/lp* node and the IEEE 1284 ID it reports.
type LPDevice struct {
	Path string
	ID   printer.DeviceID
	Err  error // the ID could not be read
}

// ListLP lists the usblp printers the kernel knows.
func ListLP() []LPDevice {
	paths, _ := filepathGlob("/dev/usb/lp*")
	var out []LPDevice
	for _, p := range paths {
		d := LPDevice{Path: p}
		d.ID, d.Err = lpDeviceID(p)
		out = append(out, d)
	}
	return out
}
