package pdf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// A certificate embeds of each font only the glyphs its page shows:
// DejaVu Sans with the 256 glyphs of the certificates' encoding is 37 KB a
// style (15 KB of it the licence text in the name table), while a page uses
// some 60 letters and signs. The subset keeps every glyph's number, so the
// font's cmap, metrics and the PDF's encoding stay as they are: the glyphs
// not shown are left empty (zero length in loca), which is how a TrueType
// font says a glyph has no outline.

// ttfFont is a TrueType font parsed once, ready to be subset per document.
type ttfFont struct {
	tables map[string][]byte // the tables copied as they are (and head, rewritten)
	glyphs [][]byte          // each glyph's outline, by glyph number
	comps  [][]uint16        // the glyphs a composite glyph is built of
	byCode [256]uint16       // the glyph of each code of the certificates' encoding
}

// keptNames are the name table entries a subset keeps, in the Windows
// platform's records (those PDF readers look at): the copyright notice,
// the family, style, unique, full and PostScript names and version (IDs 0
// to 6), and the licence's address (14). The licence's full text (13)
// stays in assets/fonts.
var keptNames = map[uint16]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 14: true}

// parseTTF reads a TrueType font; toByte is the certificates' encoding,
// whose codes are looked up in the font's Unicode cmap.
func parseTTF(b []byte, toByte map[rune]byte) (*ttfFont, error) {
	if len(b) < 12 {
		return nil, errors.New("the font file is too short")
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	raw := map[string][]byte{}
	for i := range n {
		rec := 12 + 16*i
		if rec+16 > len(b) {
			return nil, errors.New("the font's table directory is cut short")
		}
		tag := string(b[rec : rec+4])
		off, ln := int(binary.BigEndian.Uint32(b[rec+8:])), int(binary.BigEndian.Uint32(b[rec+12:]))
		if off < 0 || ln < 0 || off+ln > len(b) {
			return nil, fmt.Errorf("the font's %s table lies outside the file", tag)
		}
		raw[tag] = b[off : off+ln]
	}
	for _, tag := range []string{"head", "hhea", "hmtx", "maxp", "loca", "glyf", "cmap"} {
		if raw[tag] == nil {
			return nil, fmt.Errorf("the font has no %s table", tag)
		}
	}
	head, maxp, loca, glyf := raw["head"], raw["maxp"], raw["loca"], raw["glyf"]
	if len(head) < 54 || len(maxp) < 6 || len(raw["hhea"]) < 36 {
		return nil, errors.New("the font's head, hhea or maxp table is cut short")
	}
	numGlyphs := int(binary.BigEndian.Uint16(maxp[4:]))
	long := binary.BigEndian.Uint16(head[50:]) == 1
	offset := func(i int) (int, error) {
		if long {
			if 4*i+4 > len(loca) {
				return 0, errors.New("the font's loca table is cut short")
			}
			return int(binary.BigEndian.Uint32(loca[4*i:])), nil
		}
		if 2*i+2 > len(loca) {
			return 0, errors.New("the font's loca table is cut short")
		}
		return 2 * int(binary.BigEndian.Uint16(loca[2*i:])), nil
	}
	f := &ttfFont{tables: map[string][]byte{}, glyphs: make([][]byte, numGlyphs), comps: make([][]uint16, numGlyphs)}
	for g := range numGlyphs {
		start, err := offset(g)
		if err != nil {
			return nil, err
		}
		end, err := offset(g + 1)
		if err != nil {
			return nil, err
		}
		if start > end || end > len(glyf) {
			return nil, fmt.Errorf("glyph %d lies outside the font's glyf table", g)
		}
		f.glyphs[g] = glyf[start:end]
		if f.comps[g], err = components(f.glyphs[g], numGlyphs); err != nil {
			return nil, fmt.Errorf("glyph %d: %w", g, err)
		}
	}
	cmap, err := unicodeCmap(raw["cmap"])
	if err != nil {
		return nil, err
	}
	for r, code := range toByte {
		f.byCode[code] = cmap(r)
	}
	for _, tag := range []string{"OS/2", "cmap", "gasp", "hhea", "hmtx", "maxp", "post", "cvt ", "fpgm", "prep"} {
		if raw[tag] != nil {
			f.tables[tag] = raw[tag]
		}
	}
	// The subset's loca is always in long offsets: its glyphs are packed
	// anew and a long loca needs no even lengths.
	h := append([]byte(nil), head...)
	binary.BigEndian.PutUint16(h[50:], 1)
	f.tables["head"] = h
	if raw["name"] != nil {
		if f.tables["name"], err = pruneNames(raw["name"]); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// components lists the glyphs a composite glyph refers to (an accented
// letter is often the letter and the accent placed together).
func components(g []byte, numGlyphs int) ([]uint16, error) {
	if len(g) < 10 || int16(binary.BigEndian.Uint16(g)) >= 0 {
		return nil, nil
	}
	var out []uint16
	for p := 10; ; {
		if p+4 > len(g) {
			return nil, errors.New("a composite glyph is cut short")
		}
		flags, idx := binary.BigEndian.Uint16(g[p:]), binary.BigEndian.Uint16(g[p+2:])
		if int(idx) >= numGlyphs {
			return nil, fmt.Errorf("a composite glyph refers to glyph %d of %d", idx, numGlyphs)
		}
		out = append(out, idx)
		p += 4
		if flags&0x0001 != 0 { // ARG_1_AND_2_ARE_WORDS
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&0x0008 != 0: // WE_HAVE_A_SCALE
			p += 2
		case flags&0x0040 != 0: // WE_HAVE_AN_X_AND_Y_SCALE
			p += 4
		case flags&0x0080 != 0: // WE_HAVE_A_TWO_BY_TWO
			p += 8
		}
		if flags&0x0020 == 0 { // MORE_COMPONENTS
			return out, nil
		}
	}
}

// unicodeCmap returns a look-up of the font's Unicode cmap (Windows
// Unicode BMP, format 4), the table PDF readers use to find the glyph of
// a named character in a simple TrueType font.
func unicodeCmap(c []byte) (func(rune) uint16, error) {
	if len(c) < 4 {
		return nil, errors.New("the font's cmap is cut short")
	}
	n := int(binary.BigEndian.Uint16(c[2:]))
	for i := range n {
		rec := 4 + 8*i
		if rec+8 > len(c) {
			break
		}
		pid, eid := binary.BigEndian.Uint16(c[rec:]), binary.BigEndian.Uint16(c[rec+2:])
		off := int(binary.BigEndian.Uint32(c[rec+4:]))
		if !(pid == 3 && eid == 1 || pid == 0 && eid <= 3) || off+14 > len(c) || binary.BigEndian.Uint16(c[off:]) != 4 {
			continue
		}
		t := c[off:]
		ln := int(binary.BigEndian.Uint16(t[2:]))
		if ln > len(t) {
			return nil, errors.New("the font's cmap subtable is cut short")
		}
		t = t[:ln]
		segs := int(binary.BigEndian.Uint16(t[6:])) / 2
		ends, starts := 14, 16+2*segs
		deltas, ranges := starts+2*segs, starts+4*segs
		if ranges+2*segs > len(t) {
			return nil, errors.New("the font's cmap subtable is cut short")
		}
		u16 := func(p int) uint16 {
			if p+2 > len(t) {
				return 0
			}
			return binary.BigEndian.Uint16(t[p:])
		}
		return func(r rune) uint16 {
			if r < 0 || r > 0xFFFF {
				return 0
			}
			ch := uint16(r)
			for s := range segs {
				if ch > u16(ends+2*s) {
					continue
				}
				if ch < u16(starts+2*s) {
					return 0
				}
				ro := u16(ranges + 2*s)
				if ro == 0 {
					return ch + u16(deltas+2*s)
				}
				g := u16(ranges + 2*s + int(ro) + 2*int(ch-u16(starts+2*s)))
				if g == 0 {
					return 0
				}
				return g + u16(deltas+2*s)
			}
			return 0
		}, nil
	}
	return nil, errors.New("the font has no Unicode cmap (format 4)")
}

// pruneNames returns the name table with the keptNames entries only.
func pruneNames(t []byte) ([]byte, error) {
	if len(t) < 6 {
		return nil, errors.New("the font's name table is cut short")
	}
	count := int(binary.BigEndian.Uint16(t[2:]))
	strs := int(binary.BigEndian.Uint16(t[4:]))
	if 6+12*count > len(t) {
		return nil, errors.New("the font's name table is cut short")
	}
	var recs, data []byte
	kept := 0
	for i := range count {
		r := t[6+12*i : 18+12*i]
		if binary.BigEndian.Uint16(r) != 3 || !keptNames[binary.BigEndian.Uint16(r[6:])] {
			continue
		}
		ln, off := int(binary.BigEndian.Uint16(r[8:])), int(binary.BigEndian.Uint16(r[10:]))
		if strs+off+ln > len(t) {
			return nil, errors.New("a font name lies outside the name table")
		}
		nr := append([]byte(nil), r...)
		binary.BigEndian.PutUint16(nr[10:], uint16(len(data)))
		recs = append(recs, nr...)
		data = append(data, t[strs+off:strs+off+ln]...)
		kept++
	}
	out := make([]byte, 6, 6+len(recs)+len(data))
	binary.BigEndian.PutUint16(out[2:], uint16(kept))
	binary.BigEndian.PutUint16(out[4:], uint16(6+len(recs)))
	return append(append(out, recs...), data...), nil
}

// subset returns the font with the outlines of the codes in used only
// (and glyph 0, .notdef, which readers draw for a missing glyph).
func (f *ttfFont) subset(used *[256]bool) []byte {
	keep := make([]bool, len(f.glyphs))
	var mark func(g uint16)
	mark = func(g uint16) {
		if int(g) >= len(keep) || keep[g] {
			return
		}
		keep[g] = true
		for _, c := range f.comps[g] {
			mark(c)
		}
	}
	mark(0)
	for code, u := range used {
		if u {
			mark(f.byCode[code])
		}
	}
	size := 0
	for g, k := range keep {
		if k {
			size += (len(f.glyphs[g]) + 3) &^ 3
		}
	}
	glyf := make([]byte, 0, size)
	loca := make([]byte, 4*(len(f.glyphs)+1))
	for g, k := range keep {
		binary.BigEndian.PutUint32(loca[4*g:], uint32(len(glyf)))
		if k {
			glyf = append(glyf, f.glyphs[g]...)
			for len(glyf)%4 != 0 {
				glyf = append(glyf, 0)
			}
		}
	}
	binary.BigEndian.PutUint32(loca[4*len(f.glyphs):], uint32(len(glyf)))

	tables := make(map[string][]byte, len(f.tables)+2)
	for tag, t := range f.tables {
		tables[tag] = t
	}
	tables["glyf"], tables["loca"] = glyf, loca
	tables["hmtx"] = f.metrics(keep)
	return writeTTF(tables)
}

// metrics returns hmtx with the metrics of the glyphs not kept set to
// zero: nothing draws them, and the zeros compress to almost nothing (the
// PDF's /Widths, not hmtx, place the glyphs on the page).
func (f *ttfFont) metrics(keep []bool) []byte {
	h := append([]byte(nil), f.tables["hmtx"]...)
	long := int(binary.BigEndian.Uint16(f.tables["hhea"][34:])) // numberOfHMetrics
	for g, k := range keep {
		if k {
			continue
		}
		at, n := 4*g, 4
		if g >= long {
			at, n = 4*long+2*(g-long), 2
		}
		if at+n <= len(h) {
			clear(h[at : at+n])
		}
	}
	return h
}

// writeTTF lays tables out as a TrueType file: the directory in tag
// order, each table on a four-byte boundary with its checksum, and head's
// checkSumAdjustment set for the whole file.
func writeTTF(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	size := 12 + 16*len(tables)
	for tag, t := range tables {
		tags = append(tags, tag)
		size += (len(t) + 3) &^ 3
	}
	sort.Strings(tags)
	out := make([]byte, 12+16*len(tags), size)
	binary.BigEndian.PutUint32(out, 0x00010000)
	n := len(tags)
	es := 0
	for 1<<(es+1) <= n {
		es++
	}
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(16<<es))
	binary.BigEndian.PutUint16(out[8:], uint16(es))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-16<<es))
	headAt := -1
	for i, tag := range tags {
		t := tables[tag]
		off := len(out)
		out = append(out, t...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		if tag == "head" {
			headAt = off
			binary.BigEndian.PutUint32(out[off+8:], 0)
		}
		rec := out[12+16*i:]
		copy(rec, tag)
		binary.BigEndian.PutUint32(rec[4:], checksum(out[off:len(out)]))
		binary.BigEndian.PutUint32(rec[8:], uint32(off))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(t)))
	}
	if headAt >= 0 {
		binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	}
	return out
}

func checksum(b []byte) uint32 {
	var s uint32
	for i := 0; i+4 <= len(b); i += 4 {
		s += binary.BigEndian.Uint32(b[i:])
	}
	if r := len(b) % 4; r != 0 {
		var last [4]byte
		copy(last[:], b[len(b)-r:])
		s += binary.BigEndian.Uint32(last[:])
	}
	return s
}
