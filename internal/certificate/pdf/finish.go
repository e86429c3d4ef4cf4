package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"sort"
	"strconv"
	"sync"
)

// fpdf writes the page uncompressed and embeds a font file whole; finish
// then rewrites its output: each page's operators compressed, and each
// font replaced by the subset of the glyphs the pages show (ttf.go). fpdf
// cannot do either itself at this speed: it allocates a new zlib writer,
// about a megabyte, for every stream it compresses, and its own font
// subsetting parses the TrueType file anew for every document.

// fontMarker stands in for a font file in fpdf's output until finish puts
// the subset in its place.
func fontMarker(style string) []byte { return []byte("%sportello-font-" + style + "%") }

// zlibWriters are reused across documents: a zlib writer's set-up, not the
// compressing, was the cost. Level 4 is the fastest of Go's levels that
// keeps the largest certificate under 30 KB: level 1 saves 0.2 ms a page
// but makes the page stream 17 % larger, level 6 saves 0.5 KB for three
// times the time.
var zlibWriters = sync.Pool{New: func() any {
	w, _ := zlib.NewWriterLevel(nil, 4)
	return w
}}

// subsetCache keeps the compressed subsets made lately, by font style and
// the set of codes shown: the bold font shows the same few words on most
// certificates, and the regular one often the same letters.
var subsetCache = struct {
	sync.Mutex
	m map[subsetKey]subsetFile
}{m: map[subsetKey]subsetFile{}}

// subsetCacheSize bounds subsetCache (a subset is some 5 KB compressed).
const subsetCacheSize = 512

type subsetKey struct {
	font *ttfFont
	used [256]bool
}

type subsetFile struct {
	z    []byte // compressed
	size int    // uncompressed, the stream's Length1
}

// compressedSubset returns font's subset for the codes in used,
// compressed.
func compressedSubset(font *ttfFont, used *[256]bool) subsetFile {
	key := subsetKey{font, *used}
	subsetCache.Lock()
	f, ok := subsetCache.m[key]
	subsetCache.Unlock()
	if ok {
		return f
	}
	ttf := font.subset(used)
	f = subsetFile{deflate(ttf), len(ttf)}
	subsetCache.Lock()
	if len(subsetCache.m) >= subsetCacheSize {
		clear(subsetCache.m) // simpler than least-recently-used, and as good for a working set this size
	}
	subsetCache.m[key] = f
	subsetCache.Unlock()
	return f
}

func deflate(data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(data)/2 + 64)
	w := zlibWriters.Get().(*zlib.Writer)
	w.Reset(&b)
	w.Write(data) // writing to a bytes.Buffer does not fail
	w.Close()
	zlibWriters.Put(w)
	return b.Bytes()
}

var (
	reStartXref = regexp.MustCompile(`^startxref\s+(\d+)\s+%%EOF\s*$`)
	reObjHead   = regexp.MustCompile(`^(\d+) 0 obj\s*`)
	rePlainPage = regexp.MustCompile(`^<</Length (\d+)>>\nstream\n`)
	reFontRes   = regexp.MustCompile(`/Font\s*<<([^>]*)>>`)
	reNameRef   = regexp.MustCompile(`/(\S+)\s+(\d+) 0 R`)
	reDescRef   = regexp.MustCompile(`/FontDescriptor\s+(\d+) 0 R`)
	reFileRef   = regexp.MustCompile(`/FontFile2\s+(\d+) 0 R`)
)

type pdfObject struct {
	num  int
	body []byte // after "N 0 obj", up to and including "endobj"
}

// finish rewrites fpdf's output raw; fonts maps each font's style (the
// marker's) to the font embedded for it.
func finish(raw []byte, fonts map[string]*ttfFont) ([]byte, error) {
	objs, trailer, err := splitObjects(raw)
	if err != nil {
		return nil, fmt.Errorf("the certificate PDF could not be finished: %w", err)
	}
	byNum := make(map[int]*pdfObject, len(objs))
	for i := range objs {
		byNum[objs[i].num] = &objs[i]
	}
	// Which font each resource name stands for, through font dictionary,
	// descriptor and file.
	// Only small objects are looked into: the page contents are most of the
	// file, and scanning them for dictionaries cost as much as compressing.
	const small = 4 << 10
	markerStyle := map[int]string{}
	for style := range fonts {
		m := fontMarker(style)
		for _, o := range objs {
			if len(o.body) < small && bytes.Contains(o.body, m) {
				markerStyle[o.num] = style
			}
		}
	}
	resStyle := map[string]string{}
	nameObjs := map[int]string{}   // font dictionaries and descriptors naming a font, by style
	widthObjs := map[int]string{}  // the fonts' /Widths arrays, by style
	encodingObjs := map[int]bool{} // the fonts' encodings
	var pages []*pdfObject
	for i := range objs {
		o := &objs[i]
		if rePlainPage.Match(o.body) {
			pages = append(pages, o)
			continue
		}
		if len(o.body) >= small {
			continue
		}
		m := reFontRes.FindSubmatch(o.body)
		if m == nil {
			continue
		}
		for _, ref := range reNameRef.FindAllSubmatch(m[1], -1) {
			fontObj := byNum[atoi(ref[2])]
			if fontObj == nil {
				continue
			}
			d := reDescRef.FindSubmatch(fontObj.body)
			if d == nil || byNum[atoi(d[1])] == nil {
				continue
			}
			ff := reFileRef.FindSubmatch(byNum[atoi(d[1])].body)
			if ff == nil {
				continue
			}
			if style, ok := markerStyle[atoi(ff[1])]; ok {
				resStyle[string(ref[1])] = style
				nameObjs[fontObj.num] = style
				nameObjs[atoi(d[1])] = style
				if w := reWidthsRef.FindSubmatch(fontObj.body); w != nil {
					widthObjs[atoi(w[1])] = style
				}
				if e := reEncodingRef.FindSubmatch(fontObj.body); e != nil {
					encodingObjs[atoi(e[1])] = true
				}
			}
		}
	}
	used := map[string]*[256]bool{}
	for style := range fonts {
		used[style] = new([256]bool)
	}
	contents := map[int][]byte{}
	for _, p := range pages {
		m := rePlainPage.FindSubmatch(p.body)
		n := atoi(m[1])
		start := len(m[0])
		if start+n > len(p.body) {
			return nil, fmt.Errorf("page object %d is shorter than its length", p.num)
		}
		content := p.body[start : start+n]
		if err := shownCodes(content, resStyle, used); err != nil {
			return nil, err
		}
		contents[p.num] = content
	}

	var out bytes.Buffer
	out.Grow(len(raw) / 2)
	out.WriteString("%PDF-1.3\n%\xe2\xe3\xcf\xd3\n") // a binary comment: the file carries binary streams
	offsets := map[int]int{}
	maxNum := 0
	for _, o := range objs {
		offsets[o.num] = out.Len()
		maxNum = max(maxNum, o.num)
		fmt.Fprintf(&out, "%d 0 obj\n", o.num)
		if c, ok := contents[o.num]; ok {
			z := deflate(c)
			fmt.Fprintf(&out, "<</Filter /FlateDecode /Length %d>>\nstream\n", len(z))
			out.Write(z)
			out.WriteString("\nendstream\nendobj\n")
			continue
		}
		if style, ok := markerStyle[o.num]; ok {
			sub := compressedSubset(fonts[style], used[style])
			fmt.Fprintf(&out, "<</Filter /FlateDecode /Length %d /Length1 %d>>\nstream\n", len(sub.z), sub.size)
			out.Write(sub.z)
			out.WriteString("\nendstream\nendobj\n")
			continue
		}
		if style, ok := nameObjs[o.num]; ok {
			out.Write(tagSubset(o.body, used[style]))
			continue
		}
		if style, ok := widthObjs[o.num]; ok {
			out.Write(shownWidths(o.body, used[style]))
			continue
		}
		if encodingObjs[o.num] {
			var all [256]bool
			for _, u := range used {
				for c, ok := range u {
					all[c] = all[c] || ok
				}
			}
			out.Write(shownDifferences(o.body, &all))
			continue
		}
		out.Write(o.body)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", maxNum+1)
	for n := 1; n <= maxNum; n++ {
		off, ok := offsets[n]
		if !ok {
			return nil, fmt.Errorf("the certificate PDF has no object %d", n)
		}
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	out.Write(trailer)
	fmt.Fprintf(&out, "startxref\n%d\n%%%%EOF\n", xref)
	return out.Bytes(), nil
}

var (
	reFontName    = regexp.MustCompile(`/(BaseFont|FontName) /`)
	reWidthsRef   = regexp.MustCompile(`/Widths\s+(\d+) 0 R`)
	reEncodingRef = regexp.MustCompile(`/Encoding\s+(\d+) 0 R`)
	reFirstChar   = regexp.MustCompile(`/FirstChar\s+(\d+)`)
	reDifferences = regexp.MustCompile(`/Differences\s*\[([^\]]*)\]`)
)

// widthsFirst is the code of a /Widths array's first entry: fpdf's
// /FirstChar for the fonts it embeds.
const widthsFirst = 32

// shownWidths rewrites a font's /Widths array (body is the array object)
// with 0 for the codes the page does not show: nothing is placed with
// them, and the zeros are half the bytes.
func shownWidths(body []byte, used *[256]bool) []byte {
	start, end := bytes.IndexByte(body, '['), bytes.IndexByte(body, ']')
	if start < 0 || end < start {
		return body
	}
	ws := bytes.Fields(body[start+1 : end])
	var b bytes.Buffer
	b.Grow(len(body))
	b.Write(body[:start+1])
	for i, w := range ws {
		if i > 0 {
			b.WriteByte(' ')
		}
		if c := widthsFirst + i; c < 256 && !used[c] {
			b.WriteByte('0')
		} else {
			b.Write(w)
		}
	}
	b.Write(body[end:])
	return b.Bytes()
}

// shownDifferences rewrites an encoding's /Differences to the codes the
// page shows: the others name glyphs nothing draws.
func shownDifferences(body []byte, used *[256]bool) []byte {
	m := reDifferences.FindSubmatchIndex(body)
	if m == nil {
		return body
	}
	var b bytes.Buffer
	b.Grow(len(body))
	b.Write(body[:m[2]])
	code, next := 0, -1
	for _, tok := range bytes.Fields(body[m[2]:m[3]]) {
		if tok[0] != '/' {
			code = atoi(tok)
			continue
		}
		if code < 256 && used[code] {
			if code != next {
				if b.Len() > m[2] {
					b.WriteByte(' ')
				}
				b.WriteString(strconv.Itoa(code))
			}
			b.WriteByte(' ')
			b.Write(tok)
			next = code + 1
		}
		code++
	}
	b.Write(body[m[3]:])
	return b.Bytes()
}

// tagSubset prefixes the font's name in a font dictionary or descriptor
// with the subset's tag, six capitals and "+", as PDF asks of a font
// embedded in part (ISO 32000-1, 9.6.4): a reader then never takes it for
// the whole font. The tag depends on the glyphs kept, so two subsets of
// one font in different files have different tags.
func tagSubset(body []byte, used *[256]bool) []byte {
	h := fnv.New64a()
	for c, u := range used {
		if u {
			h.Write([]byte{byte(c)})
		}
	}
	x := h.Sum64()
	var tag [7]byte
	for i := range 6 {
		tag[i] = 'A' + byte(x%26)
		x /= 26
	}
	tag[6] = '+'
	return reFontName.ReplaceAll(body, append([]byte("/$1 /"), tag[:]...))
}

func atoi(b []byte) int {
	n, _ := strconv.Atoi(string(b))
	return n
}

// splitObjects cuts fpdf's output into its objects, by the offsets of its
// cross-reference table, and returns them in file order with the trailer
// ("trailer" up to "startxref").
func splitObjects(raw []byte) ([]pdfObject, []byte, error) {
	// The end of the file only: a regular expression anchored at the end
	// would still scan the whole file.
	s := bytes.LastIndex(raw, []byte("startxref"))
	if s < 0 {
		return nil, nil, errors.New("no startxref")
	}
	m := reStartXref.FindSubmatch(raw[s:])
	if m == nil {
		return nil, nil, errors.New("no startxref")
	}
	xref := atoi(m[1])
	if xref <= 0 || xref >= len(raw) || !bytes.HasPrefix(raw[xref:], []byte("xref")) {
		return nil, nil, errors.New("startxref does not point at the cross-reference table")
	}
	t := bytes.Index(raw[xref:], []byte("trailer"))
	if t < 0 || xref+t > s {
		return nil, nil, errors.New("no trailer")
	}
	trailer := raw[xref+t : s]
	lines := bytes.Split(raw[xref:xref+t], []byte("\n"))
	if len(lines) < 2 {
		return nil, nil, errors.New("the cross-reference table is empty")
	}
	var first, count int
	if _, err := fmt.Sscanf(string(lines[1]), "%d %d", &first, &count); err != nil || first != 0 || len(lines) < 2+count {
		return nil, nil, errors.New("the cross-reference table is not one section from object 0")
	}
	type at struct{ num, off int }
	var list []at
	for n := 1; n < count; n++ {
		var off, gen int
		var kind string
		if _, err := fmt.Sscanf(string(lines[2+n]), "%d %d %s", &off, &gen, &kind); err != nil || kind != "n" {
			return nil, nil, fmt.Errorf("cross-reference entry %d is malformed", n)
		}
		list = append(list, at{n, off})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].off < list[j].off })
	objs := make([]pdfObject, 0, len(list))
	for i, a := range list {
		end := xref
		if i+1 < len(list) {
			end = list[i+1].off
		}
		if a.off <= 0 || a.off > end {
			return nil, nil, fmt.Errorf("object %d's offset is outside the file", a.num)
		}
		b := raw[a.off:end]
		h := reObjHead.FindSubmatch(b)
		if h == nil || atoi(h[1]) != a.num {
			return nil, nil, fmt.Errorf("object %d is not where the cross-reference table puts it", a.num)
		}
		objs = append(objs, pdfObject{num: a.num, body: b[len(h[0]):]})
	}
	return objs, trailer, nil
}

// shownCodes adds to used the codes of every string the page content
// shows, under the style of the font selected (Tf) at that point.
func shownCodes(c []byte, resStyle map[string]string, used map[string]*[256]bool) error {
	var cur *[256]bool
	var name string
	for i := 0; i < len(c); {
		switch ch := c[i]; {
		case ch == '(':
			depth := 1
			i++
			for i < len(c) && depth > 0 {
				b := c[i]
				i++
				switch b {
				case '\\':
					if i >= len(c) {
						return errors.New("a page string ends in a backslash")
					}
					e := c[i]
					i++
					switch e {
					case 'n':
						b = '\n'
					case 'r':
						b = '\r'
					case 't':
						b = '\t'
					case 'b':
						b = '\b'
					case 'f':
						b = '\f'
					case '\n':
						continue
					default:
						if '0' <= e && e <= '7' {
							v := int(e - '0')
							for k := 0; k < 2 && i < len(c) && '0' <= c[i] && c[i] <= '7'; k++ {
								v = v*8 + int(c[i]-'0')
								i++
							}
							b = byte(v)
						} else {
							b = e
						}
					}
				case '(':
					depth++
				case ')':
					depth--
					if depth == 0 {
						continue
					}
				}
				if cur != nil {
					cur[b] = true
				}
			}
		case ch == '/':
			j := i + 1
			for j < len(c) && !isDelim(c[j]) {
				j++
			}
			name = string(c[i+1 : j])
			i = j
		case ch == 'T' && i+1 < len(c) && c[i+1] == 'f' && (i+2 == len(c) || isDelim(c[i+2])) && (i == 0 || isDelim(c[i-1])):
			style, ok := resStyle[name]
			if !ok {
				return fmt.Errorf("the page selects font %q, which is not embedded", name)
			}
			cur = used[style]
			i += 2
		default:
			i++
		}
	}
	return nil
}

func isDelim(b byte) bool {
	switch b {
	case ' ', '\n', '\r', '\t', '\f', 0, '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}
