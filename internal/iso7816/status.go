package iso7816

import "fmt"

// SW is a status word, SW1 in the high byte.
type SW uint16

// Status words the CIE flows look at.
const (
	SWOK                   SW = 0x9000
	SWEndOfFile            SW = 0x6282 // fewer than Ne bytes: the file ended
	SWWrongLength          SW = 0x6700
	SWSecurityNotSatisfied SW = 0x6982
	SWAuthBlocked          SW = 0x6983
	SWDataInvalid          SW = 0x6984
	SWConditionsNotMet     SW = 0x6985
	SWFileNotFound         SW = 0x6A82
	SWWrongP1P2            SW = 0x6A86
	SWWrongParameters      SW = 0x6B00 // offset beyond the file
	SWINSNotSupported      SW = 0x6D00
	SWCLANotSupported      SW = 0x6E00
	SWUnknown              SW = 0x6F00
)

// SW1 and SW2 are the two bytes.
func (s SW) SW1() byte { return byte(s >> 8) }
func (s SW) SW2() byte { return byte(s) }

func (s SW) String() string { return fmt.Sprintf("%04X", uint16(s)) }

// Meaning is the ISO 7816-4 meaning of s, for people.
func (s SW) Meaning() string {
	switch s {
	case SWOK:
		return "success"
	case SWEndOfFile:
		return "end of file reached before the expected length"
	case 0x6283:
		return "selected file deactivated"
	case 0x6581:
		return "memory failure"
	case SWWrongLength:
		return "wrong length"
	case 0x6881:
		return "logical channel not supported"
	case 0x6882:
		return "secure messaging not supported"
	case 0x6981:
		return "command incompatible with file structure"
	case SWSecurityNotSatisfied:
		return "security status not satisfied"
	case SWAuthBlocked:
		return "authentication method blocked"
	case SWDataInvalid:
		return "reference data not usable"
	case SWConditionsNotMet:
		return "conditions of use not satisfied"
	case 0x6986:
		return "command not allowed (no current EF)"
	case 0x6987:
		return "expected secure messaging data objects missing"
	case 0x6988:
		return "incorrect secure messaging data objects"
	case 0x6A80:
		return "incorrect parameters in the data field"
	case 0x6A81:
		return "function not supported"
	case SWFileNotFound:
		return "file or application not found"
	case 0x6A83:
		return "record not found"
	case 0x6A84:
		return "not enough memory space in the file"
	case SWWrongP1P2:
		return "incorrect parameters P1-P2"
	case 0x6A88:
		return "referenced data not found"
	case SWWrongParameters:
		return "wrong parameters (offset outside the file)"
	case SWINSNotSupported:
		return "instruction not supported"
	case SWCLANotSupported:
		return "class not supported"
	case SWUnknown:
		return "no precise diagnosis"
	}
	switch s.SW1() {
	case 0x61:
		return fmt.Sprintf("%d more response bytes available", s.SW2())
	case 0x6C:
		return fmt.Sprintf("wrong Le: exactly %d bytes available", s.SW2())
	case 0x63:
		if s.SW2()&0xF0 == 0xC0 {
			return fmt.Sprintf("verification failed, %d tries left", s.SW2()&0x0F)
		}
		return "verification failed"
	case 0x64:
		return "execution error, memory unchanged"
	case 0x65:
		return "execution error, memory changed"
	}
	return "unknown status"
}

// Err returns nil for 9000 and a *StatusError otherwise.
func (s SW) Err(op string) error {
	if s == SWOK {
		return nil
	}
	return &StatusError{Op: op, SW: s}
}

// StatusError is a card's refusal of a command.
type StatusError struct {
	Op string // what was asked, e.g. "SELECT DF_CIE"
	SW SW
}

func (e *StatusError) Error() string {
	if e.Op == "" {
		return fmt.Sprintf("the card answered %s: %s", e.SW, e.SW.Meaning())
	}
	return fmt.Sprintf("%s: the card answered %s: %s", e.Op, e.SW, e.SW.Meaning())
}

// TriesLeft returns the counter a 63Cx status word carries.
func (s SW) TriesLeft() (int, bool) {
	if s.SW1() == 0x63 && s.SW2()&0xF0 == 0xC0 {
		return int(s.SW2() & 0x0F), true
	}
	return 0, false
}
