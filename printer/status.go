// Package printer holds what every Sportello printer shares, whatever its
// language or cable: the status a printer reports, the jobs sent to it, the
// spool that keeps a job which could not print until the operator reprints
// it, and the Printer that ties a transport to that spool.
//
// Command languages live in subpackages (escpos), layouts in receipt, and the
// cables in transport and transport/usb.
package printer

import (
	"errors"
	"strings"
)

// Condition is one reason a printer cannot print, or a warning. It is an
// error so callers can ask errors.Is(err, printer.PaperOut).
type Condition string

func (c Condition) Error() string { return string(c) }

// The conditions a receipt or office printer reports. PaperNearEnd is a
// warning: the job still prints.
const (
	Offline          Condition = "offline"
	CoverOpen        Condition = "cover open"
	PaperOut         Condition = "paper out"
	PaperNearEnd     Condition = "paper near end"
	CutterError      Condition = "cutter error"
	PrinterError     Condition = "unrecoverable printer error"
	RecoverableError Condition = "recoverable printer error"
)

// Status is what a printer said about itself. The zero value is a printer
// ready to print.
type Status struct {
	Offline      bool
	CoverOpen    bool
	PaperOut     bool
	PaperNearEnd bool
	CutterError  bool
	// Unrecoverable needs the printer switched off and on again;
	// Recoverable clears by itself (for example after a head overheats).
	Unrecoverable bool
	Recoverable   bool
	DrawerOpen    bool
}

// Conditions lists what stops printing, most actionable first (an operator
// fixes paper and covers; offline is often their consequence).
func (s Status) Conditions() []Condition {
	var cs []Condition
	add := func(b bool, c Condition) {
		if b {
			cs = append(cs, c)
		}
	}
	add(s.PaperOut, PaperOut)
	add(s.CoverOpen, CoverOpen)
	add(s.CutterError, CutterError)
	add(s.Unrecoverable, PrinterError)
	add(s.Recoverable, RecoverableError)
	// A printer goes offline because of paper or cover; naming the cause
	// alone tells the operator what to fix.
	add(s.Offline && len(cs) == 0, Offline)
	return cs
}

// Warnings lists conditions that do not stop printing.
func (s Status) Warnings() []Condition {
	if s.PaperNearEnd && !s.PaperOut {
		return []Condition{PaperNearEnd}
	}
	return nil
}

// Err is nil when the printer can print, else a *StatusError naming why.
func (s Status) Err() error {
	if cs := s.Conditions(); len(cs) > 0 {
		return &StatusError{Conditions: cs}
	}
	return nil
}

func (s Status) String() string {
	cs := append(s.Conditions(), s.Warnings()...)
	if len(cs) == 0 {
		return "ready"
	}
	return joinConditions(cs)
}

// StatusError is a printer that reported it cannot print.
type StatusError struct {
	Conditions []Condition
}

func (e *StatusError) Error() string {
	return "the printer reports " + joinConditions(e.Conditions)
}

// Is lets errors.Is(err, printer.PaperOut) find a condition.
func (e *StatusError) Is(target error) bool {
	var c Condition
	if !errors.As(target, &c) {
		return false
	}
	for _, have := range e.Conditions {
		if have == c {
			return true
		}
	}
	return false
}

func joinConditions(cs []Condition) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = string(c)
	}
	switch len(parts) {
	case 1:
		return parts[0]
	default:
		return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
	}
}

// ErrNoStatus is returned by transports that cannot ask the printer
// anything (a file, a one-way cable). Printing goes ahead without a check.
var ErrNoStatus = errors.New("this printer connection cannot report status")

// PortStatus turns the IEEE 1284 port status byte (USB printer class
// GET_PORT_STATUS, Linux LPGETSTATUS) into a Status: bit 5 paper empty,
// bit 4 selected (online), bit 3 not-error. The port cannot say why it is
// in error, so an error reads as offline.
func PortStatus(b byte) Status {
	return Status{
		PaperOut: b&0x20 != 0,
		Offline:  b&0x10 == 0 || b&0x08 == 0,
	}
}
