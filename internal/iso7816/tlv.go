package iso7816

import (
	"errors"
	"fmt"
)

// TLV is one BER-TLV data object (ISO 7816-4 §5.2, X.690 §8.1). Tag holds the
// tag bytes as read, e.g. 0x5F1F or 0x7F49.
type TLV struct {
	Tag   uint32
	Value []byte
}

// Constructed reports whether the tag marks a constructed object.
func (t TLV) Constructed() bool {
	first := t.Tag
	for first > 0xFF {
		first >>= 8
	}
	return first&0x20 != 0
}

// ErrTruncated is returned for a TLV that ends before its declared length.
var ErrTruncated = errors.New("BER-TLV object ends before its declared length")

// ParseTLV reads one object from b and returns it and the bytes after it.
// Indefinite lengths are refused: smart cards do not use them.
func ParseTLV(b []byte) (TLV, []byte, error) {
	if len(b) == 0 {
		return TLV{}, nil, errors.New("BER-TLV object is empty")
	}
	i := 0
	tag := uint32(b[0])
	i++
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) {
				return TLV{}, nil, ErrTruncated
			}
			if i >= 4 {
				return TLV{}, nil, errors.New("BER-TLV tag longer than 4 bytes")
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return TLV{}, nil, ErrTruncated
	}
	l := int(b[i])
	i++
	if l&0x80 != 0 {
		n := l & 0x7F
		if n == 0 {
			return TLV{}, nil, errors.New("BER-TLV indefinite length is not allowed here")
		}
		if n > 3 {
			return TLV{}, nil, fmt.Errorf("BER-TLV length of %d bytes is too large for a card object", n)
		}
		if i+n > len(b) {
			return TLV{}, nil, ErrTruncated
		}
		l = 0
		for _, c := range b[i : i+n] {
			l = l<<8 | int(c)
		}
		i += n
	}
	if l > len(b)-i {
		return TLV{}, nil, ErrTruncated
	}
	return TLV{Tag: tag, Value: b[i : i+l]}, b[i+l:], nil
}

// ParseAllTLV reads consecutive objects until b is used up. Trailing 00 or
// FF bytes, which cards use as file padding, end the list.
func ParseAllTLV(b []byte) ([]TLV, error) {
	var out []TLV
	for len(b) > 0 {
		if b[0] == 0x00 || b[0] == 0xFF {
			if allPadding(b) {
				break
			}
		}
		t, rest, err := ParseTLV(b)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

func allPadding(b []byte) bool {
	for _, c := range b {
		if c != b[0] {
			return false
		}
	}
	return true
}

// FindTLV returns the first object with tag in b, searching inside
// constructed objects depth-first.
func FindTLV(b []byte, tag uint32) (TLV, bool) {
	objs, err := ParseAllTLV(b)
	if err != nil {
		return TLV{}, false
	}
	for _, o := range objs {
		if o.Tag == tag {
			return o, true
		}
		if o.Constructed() {
			if f, ok := FindTLV(o.Value, tag); ok {
				return f, true
			}
		}
	}
	return TLV{}, false
}

// Bytes encodes t with the shortest definite length.
func (t TLV) Bytes() []byte { return AppendTLV(nil, t.Tag, t.Value) }

// AppendTLV appends one object to dst.
func AppendTLV(dst []byte, tag uint32, value []byte) []byte {
	switch {
	case tag > 0xFFFFFF:
		dst = append(dst, byte(tag>>24), byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFFFF:
		dst = append(dst, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFF:
		dst = append(dst, byte(tag>>8), byte(tag))
	default:
		dst = append(dst, byte(tag))
	}
	dst = AppendLength(dst, len(value))
	return append(dst, value...)
}

// AppendLength appends a BER definite length.
func AppendLength(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xFF:
		return append(dst, 0x81, byte(n))
	case n <= 0xFFFF:
		return append(dst, 0x82, byte(n>>8), byte(n))
	default:
		return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}
