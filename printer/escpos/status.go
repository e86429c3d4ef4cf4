package escpos

import (
	"fmt"

	"github.com/sportello/sportello/printer"
)

// StatusQueries are the four DLE EOT requests, in the order ParseStatus
// expects their answers.
var StatusQueries = [4]byte{1, 2, 3, 4}

// ParseStatus turns the answers to DLE EOT 1, 2, 3 and 4 into a Status.
// Every answer has bit 1 and bit 4 set and bits 0 and 7 clear; anything else
// is not a status byte (a printer still sending something else, or noise).
func ParseStatus(ans [4]byte) (printer.Status, error) {
	for i, b := range ans {
		if b&0x93 != 0x12 {
			return printer.Status{}, fmt.Errorf("byte %#02x answering DLE EOT %d is not an ESC/POS status byte", b, i+1)
		}
	}
	p, off, errs, paper := ans[0], ans[1], ans[2], ans[3]
	return printer.Status{
		DrawerOpen:    p&0x04 != 0,
		Offline:       p&0x08 != 0,
		CoverOpen:     off&0x04 != 0,
		PaperOut:      off&0x20 != 0 || paper&0x60 != 0,
		CutterError:   errs&0x08 != 0,
		Unrecoverable: errs&0x20 != 0,
		Recoverable:   errs&0x40 != 0,
		PaperNearEnd:  paper&0x0C != 0,
	}, nil
}

// StatusBytes is the inverse of ParseStatus, for fake printers in tests.
func StatusBytes(s printer.Status) [4]byte {
	a := [4]byte{0x12, 0x12, 0x12, 0x12}
	set := func(i int, on bool, bit byte) {
		if on {
			a[i] |= bit
		}
	}
	set(0, s.DrawerOpen, 0x04)
	set(0, s.Offline || s.CoverOpen || s.PaperOut, 0x08)
	set(1, s.CoverOpen, 0x04)
	set(1, s.PaperOut, 0x20)
	set(2, s.CutterError, 0x08)
	set(2, s.Unrecoverable, 0x20)
	set(2, s.Recoverable, 0x40)
	set(3, s.PaperNearEnd, 0x0C)
	set(3, s.PaperOut, 0x60)
	return a
}
