package printer

import (
	"fmt"
	"strings"
)

// DeviceID is an IEEE 1284 device ID, as USB printers answer GET_DEVICE_ID
// and Linux exposes for /dev/usb/lp*: "MFG:EPSON;MDL:TM-T20II;CMD:ESC/POS;".
type DeviceID struct {
	Manufacturer string
	Model        string
	Commands     []string // command sets: ESC/POS, PDF, PCL, POSTSCRIPT…
	Class        string
	Description  string
	Serial       string
	// Fields holds every key as sent, upper-cased, for vendor keys.
	Fields map[string]string
}

// ParseDeviceID parses the text of an IEEE 1284 ID (without the two-byte
// length prefix). Long and short key names are both accepted, as printers use
// both.
func ParseDeviceID(s string) (DeviceID, error) {
	id := DeviceID{Fields: map[string]string{}}
	for _, field := range strings.Split(s, ";") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		k, v, ok := strings.Cut(field, ":")
		if !ok {
			return DeviceID{}, fmt.Errorf("IEEE 1284 device ID field %q has no colon, so it is not KEY:VALUE", field)
		}
		k = strings.ToUpper(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		id.Fields[k] = v
		switch k {
		case "MFG", "MANUFACTURER":
			id.Manufacturer = v
		case "MDL", "MODEL":
			id.Model = v
		case "CMD", "COMMAND SET":
			for _, c := range strings.Split(v, ",") {
				if c = strings.TrimSpace(c); c != "" {
					id.Commands = append(id.Commands, c)
				}
			}
		case "CLS", "CLASS":
			id.Class = v
		case "DES", "DESCRIPTION":
			id.Description = v
		case "SN", "SERN", "SERIALNUMBER":
			id.Serial = v
		}
	}
	if id.Manufacturer == "" && id.Model == "" {
		return DeviceID{}, fmt.Errorf("IEEE 1284 device ID %q names neither manufacturer nor model", s)
	}
	return id, nil
}

// ParseDeviceIDPrefixed parses the answer to USB GET_DEVICE_ID: a big-endian
// length that counts its own two bytes, then the ID.
func ParseDeviceIDPrefixed(b []byte) (DeviceID, error) {
	if len(b) < 2 {
		return DeviceID{}, fmt.Errorf("device ID answer of %d bytes is shorter than its 2-byte length", len(b))
	}
	n := int(b[0])<<8 | int(b[1])
	if n < 2 || n > len(b) {
		return DeviceID{}, fmt.Errorf("device ID length %d does not fit the %d bytes received", n, len(b))
	}
	return ParseDeviceID(string(b[2:n]))
}

// Speaks reports whether the device lists the command set (case-insensitive),
// e.g. "ESC/POS" or "PDF".
func (id DeviceID) Speaks(cmd string) bool {
	for _, c := range id.Commands {
		if strings.EqualFold(c, cmd) {
			return true
		}
	}
	return false
}

func (id DeviceID) String() string {
	s := strings.TrimSpace(id.Manufacturer + " " + id.Model)
	if len(id.Commands) > 0 {
		s += " (" + strings.Join(id.Commands, ",") + ")"
	}
	return s
}
