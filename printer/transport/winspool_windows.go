package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/sportello/sportello/printer"
)

// The spooler's API (winspool.drv). golang.org/x/sys/windows has no
// wrappers for it, so the calls are made through the DLL's exports; the
// structures below follow winspool.h.
var (
	winspool             = windows.NewLazySystemDLL("winspool.drv")
	procOpenPrinterW     = winspool.NewProc("OpenPrinterW")
	procClosePrinter     = winspool.NewProc("ClosePrinter")
	procStartDocPrinterW = winspool.NewProc("StartDocPrinterW")
	procEndDocPrinter    = winspool.NewProc("EndDocPrinter")
	procStartPagePrinter = winspool.NewProc("StartPagePrinter")
	procEndPagePrinter   = winspool.NewProc("EndPagePrinter")
	procWritePrinter     = winspool.NewProc("WritePrinter")
	procGetPrinterW      = winspool.NewProc("GetPrinterW")
	procEnumPrintersW    = winspool.NewProc("EnumPrintersW")
)

const (
	printerEnumLocal       = 0x00000002
	printerEnumConnections = 0x00000004
)

// docInfo1 is DOC_INFO_1W.
type docInfo1 struct {
	DocName, OutputFile, Datatype *uint16
}

// printerInfo2 is PRINTER_INFO_2W.
type printerInfo2 struct {
	ServerName, PrinterName, ShareName, PortName, DriverName, Comment, Location *uint16
	DevMode                                                                     uintptr
	SepFile, PrintProcessor, Datatype, Parameters                               *uint16
	SecurityDescriptor                                                          uintptr
	Attributes, Priority, DefaultPriority, StartTime, UntilTime, Status, Jobs   uint32
	AveragePPM                                                                  uint32
}

// Spooler is a queue of the Windows print spooler, written RAW.
type Spooler struct {
	name string
	mu   sync.Mutex
	h    windows.Handle
}

func openSpooler(name string) (printer.Transport, error) {
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, fmt.Errorf("printer name %q: %w", name, err)
	}
	var h windows.Handle
	if r, _, err := procOpenPrinterW.Call(uintptr(unsafe.Pointer(n)), uintptr(unsafe.Pointer(&h)), 0); r == 0 {
		return nil, fmt.Errorf("Windows has no printer %q that this user may print to (%v): kiosk printer list shows the names", name, err)
	}
	return &Spooler{name: name, h: h}, nil
}

// Send hands the whole job to the spooler as one RAW document. The
// spooler accepts it at once and prints in the background; a printer that
// then fails shows in Status and in Windows' own queue.
func (s *Spooler) Send(ctx context.Context, job printer.Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := job.Name
	if name == "" {
		name = "Sportello"
	}
	doc, _ := windows.UTF16PtrFromString(name)
	raw, _ := windows.UTF16PtrFromString("RAW")
	di := docInfo1{DocName: doc, Datatype: raw}
	if r, _, err := procStartDocPrinterW.Call(uintptr(s.h), 1, uintptr(unsafe.Pointer(&di))); r == 0 {
		return fmt.Errorf("the Windows spooler refused a job for %q: %v", s.name, err)
	}
	werr := s.write(job.Data)
	if r, _, err := procEndDocPrinter.Call(uintptr(s.h)); r == 0 && werr == nil {
		werr = fmt.Errorf("the Windows spooler could not close the job for %q: %v", s.name, err)
	}
	return werr
}

func (s *Spooler) write(data []byte) error {
	if r, _, err := procStartPagePrinter.Call(uintptr(s.h)); r == 0 {
		return fmt.Errorf("the Windows spooler refused a page for %q: %v", s.name, err)
	}
	for len(data) > 0 {
		var n uint32
		r, _, err := procWritePrinter.Call(uintptr(s.h), uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)), uintptr(unsafe.Pointer(&n)))
		if r == 0 {
			procEndPagePrinter.Call(uintptr(s.h))
			return fmt.Errorf("writing to the Windows printer %q: %v", s.name, err)
		}
		if n == 0 {
			procEndPagePrinter.Call(uintptr(s.h))
			return fmt.Errorf("the Windows printer %q took no bytes", s.name)
		}
		data = data[n:]
	}
	if r, _, err := procEndPagePrinter.Call(uintptr(s.h)); r == 0 {
		return fmt.Errorf("the Windows spooler could not end the page for %q: %v", s.name, err)
	}
	return nil
}

// Status is what the spooler knows of the printer (GetPrinter level 2).
func (s *Spooler) Status(context.Context) (printer.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf, err := call2(func(p *byte, size uint32, need *uint32) (uintptr, error) {
		r, _, err := procGetPrinterW.Call(uintptr(s.h), 2, uintptr(unsafe.Pointer(p)), uintptr(size), uintptr(unsafe.Pointer(need)))
		return r, err
	})
	if err != nil {
		return printer.Status{}, fmt.Errorf("asking the Windows spooler about %q: %w", s.name, err)
	}
	if len(buf) < int(unsafe.Sizeof(printerInfo2{})) {
		return printer.Status{}, printer.ErrNoStatus
	}
	info := (*printerInfo2)(unsafe.Pointer(&buf[0]))
	return SpoolerStatus(info.Status), nil
}

func (s *Spooler) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == 0 {
		return nil
	}
	r, _, err := procClosePrinter.Call(uintptr(s.h))
	s.h = 0
	if r == 0 {
		return err
	}
	return nil
}

// ListSpooler lists the local printers and the shared ones this user has
// connected to (EnumPrinters level 2).
func ListSpooler() ([]SpoolerQueue, error) {
	var count uint32
	buf, err := call2(func(p *byte, size uint32, need *uint32) (uintptr, error) {
		r, _, err := procEnumPrintersW.Call(printerEnumLocal|printerEnumConnections, 0, 2,
			uintptr(unsafe.Pointer(p)), uintptr(size), uintptr(unsafe.Pointer(need)), uintptr(unsafe.Pointer(&count)))
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing the Windows printers: %w", err)
	}
	if count == 0 || len(buf) == 0 {
		return nil, nil
	}
	infos := unsafe.Slice((*printerInfo2)(unsafe.Pointer(&buf[0])), count)
	out := make([]SpoolerQueue, 0, count)
	for _, in := range infos {
		out = append(out, SpoolerQueue{Name: windows.UTF16PtrToString(in.PrinterName), Driver: windows.UTF16PtrToString(in.DriverName),
			Port: windows.UTF16PtrToString(in.PortName), Status: in.Status})
	}
	return out, nil
}

// call2 makes a spooler call that is asked once for the size it needs,
// then again with a buffer that size.
func call2(call func(p *byte, size uint32, need *uint32) (uintptr, error)) ([]byte, error) {
	var need uint32
	r, err := call(nil, 0, &need)
	if r != 0 {
		return nil, nil // nothing to return
	}
	if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) {
		return nil, err
	}
	for range 3 {
		buf := make([]byte, need)
		r, err = call(&buf[0], need, &need)
		if r != 0 {
			return buf, nil
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) {
			return nil, err
		}
	}
	return nil, err
}
