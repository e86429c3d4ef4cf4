// Package transport carries jobs to printers over the cables that need no
// cgo: raw TCP (port 9100), IPP (CUPS or any IPP Everywhere printer), Linux
// /dev/usb/lp*, the Windows print spooler and plain files. USB through
// libusb is in transport/usb, kept apart so the hub builds with
// CGO_ENABLED=0.
//
// Printers are named by URI (DESIGN.md): tcp://HOST:9100,
// ipp://HOST:PORT/printers/NAME, file:///PATH, lp:///dev/usb/lp0,
// winspool://NAME (Windows only), and
// usb://VID:PID[/SERIAL] (opened by transport/usb).
package transport

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sportello/sportello/printer"
)

// DefaultTimeout bounds each write and status read: a printer that stops
// taking bytes for this long is reported, not waited on forever.
const DefaultTimeout = 10 * time.Second

// Options are what a transport needs to know of the program using it.
type Options struct {
	// Language ("it", "en") is the language printers that talk back (IPP)
	// answer in; see IPPLanguage.
	Language string
}

// Open connects to the printer a URI names. For usb:// it returns an error
// pointing at transport/usb.
func Open(ctx context.Context, uri string, opts Options) (printer.Transport, error) {
	if strings.HasPrefix(strings.ToLower(uri), "usb://") {
		// Checked before parsing: VID:PID looks like a host with a bad port.
		return nil, fmt.Errorf("printer %q needs the USB transport (printer/transport/usb), which this program was built without", uri)
	}
	if name, ok, err := parseSpoolerURI(uri); ok {
		if err != nil {
			return nil, err
		}
		return openSpooler(name)
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("printer %q is not a URI such as tcp://HOST:9100 or file:///PATH", uri)
	}
	switch strings.ToLower(u.Scheme) {
	case "tcp", "socket":
		return openTCP(ctx, u)
	case "ipp", "ipps", "http", "https":
		return NewIPP(u, opts.Language)
	case "file":
		if u.Path == "" || u.Host != "" {
			return nil, fmt.Errorf("printer %q is not file:///ABSOLUTE/PATH", uri)
		}
		return &File{Path: u.Path}, nil
	case "lp":
		if u.Path == "" {
			return nil, fmt.Errorf("printer %q is not lp:///dev/usb/lpN", uri)
		}
		return OpenLP(u.Path)
	}
	return nil, fmt.Errorf("printer URI scheme %q is not one of tcp, ipp, ipps, file, lp, usb, winspool", u.Scheme)
}

func openTCP(ctx context.Context, u *url.URL) (printer.Transport, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("printer %q names no host", u.String())
	}
	host := u.Host
	if u.Port() == "" {
		host += ":9100"
	}
	status := true
	switch v := u.Query().Get("status"); v {
	case "", "on", "1", "true":
	case "off", "0", "false":
		status = false
	default:
		return nil, fmt.Errorf("status=%q in %s is neither on nor off", v, u)
	}
	return DialTCP(ctx, host, TCPOptions{Status: status})
}
