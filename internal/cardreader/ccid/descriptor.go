package ccid

// What is here is the part of the USB side that needs no libusb, so it is
// built on every platform: Windows builds leave usb.go out (usb_windows.go).

import (
	"encoding/binary"
	"errors"
)

// ClassSmartCard is the USB interface class of CCID readers.
const ClassSmartCard = 0x0B

// ErrNoUSBReader means no USB device offers a smart-card interface.
var ErrNoUSBReader = errors.New("no USB smart-card (CCID) reader is connected")

// ParseClassDescriptor finds the CCID class descriptor (type 21h, after a
// smart-card interface descriptor) in a raw configuration descriptor and
// returns the slot count and exchange level.
func ParseClassDescriptor(raw []byte) (slots int, level Level, ok bool) {
	class := -1
	for len(raw) >= 2 {
		l := int(raw[0])
		if l < 2 || l > len(raw) {
			return 0, 0, false
		}
		d := raw[:l]
		raw = raw[l:]
		switch {
		case d[1] == 0x04 && l >= 9:
			class = int(d[5])
		case d[1] == 0x21 && class == ClassSmartCard && l >= 0x36:
			features := binary.LittleEndian.Uint32(d[40:44])
			switch {
			case features&0x00040000 != 0:
				level = LevelExtendedAPDU
			case features&0x00020000 != 0:
				level = LevelShortAPDU
			case features&0x00010000 != 0:
				level = LevelTPDU
			default:
				level = LevelCharacter
			}
			return int(d[4]) + 1, level, true
		}
	}
	return 0, 0, false
}
