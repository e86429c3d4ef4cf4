package transport

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/sportello/sportello/printer"
)

// SpoolerScheme names a queue of the Windows print spooler:
// winspool://NAME, where NAME is the printer's name as Windows shows it
// ("EPSON TM-T20II Receipt", or \\SERVER\SHARE for a shared one), spaces
// as they are or %20. The spooler passes the job to the printer's port
// untouched (the RAW datatype), so an ESC/POS receipt reaches a USB receipt
// printer as the kiosk encoded it, and a PDF reaches an office printer
// that reads PDF.
const SpoolerScheme = "winspool"

// SpoolerQueue is one printer the Windows spooler knows.
type SpoolerQueue struct {
	Name, Driver, Port string
	// Status is the spooler's PRINTER_STATUS_* bits, 0 when ready.
	Status uint32
}

// URI is the address to give `kiosk printer test --printer`.
func (q SpoolerQueue) URI() string { return SpoolerURI(q.Name) }

// SpoolerURI is the winspool:// address of a queue.
func SpoolerURI(name string) string { return SpoolerScheme + "://" + name }

// parseSpoolerURI takes the queue name out of a winspool:// URI. It is
// read before url.Parse: queue names hold spaces and backslashes.
func parseSpoolerURI(uri string) (string, bool, error) {
	prefix := SpoolerScheme + "://"
	if len(uri) < len(prefix) || !strings.EqualFold(uri[:len(prefix)], prefix) {
		return "", false, nil
	}
	name, err := url.PathUnescape(uri[len(prefix):])
	if err != nil || strings.TrimSpace(name) == "" {
		return "", true, fmt.Errorf("printer %q is not winspool://NAME with a Windows printer's name", uri)
	}
	return name, true, nil
}

// The spooler's PRINTER_STATUS_* bits that stop a job (winspool.h).
const (
	spoolerError            = 0x00000002
	spoolerPaperJam         = 0x00000008
	spoolerPaperOut         = 0x00000010
	spoolerPaperProblem     = 0x00000040
	spoolerOffline          = 0x00000080
	spoolerNotAvailable     = 0x00001000
	spoolerNoToner          = 0x00040000
	spoolerUserIntervention = 0x00100000
	spoolerDoorOpen         = 0x00400000
)

// SpoolerStatus reads PRINTER_STATUS_* bits as a printer.Status. Drivers
// report what the printer's port tells them, which is often nothing, so
// 0 means "ready as far as the spooler knows", not "paper loaded".
func SpoolerStatus(bits uint32) printer.Status {
	has := func(b uint32) bool { return bits&b != 0 }
	return printer.Status{
		Offline:   has(spoolerOffline | spoolerNotAvailable),
		CoverOpen: has(spoolerDoorOpen),
		PaperOut:  has(spoolerPaperOut | spoolerPaperProblem),
		// A jam, an empty toner or a printer asking for a hand clears once
		// the operator acts, without switching it off.
		Recoverable: has(spoolerPaperJam | spoolerNoToner | spoolerUserIntervention | spoolerError),
	}
}
