package boltfile

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxProblems is how many problems a Report lists; the rest are counted.
const maxProblems = 50

// maxDepth bounds the walk: bbolt trees are a few levels deep, so anything
// deeper is damage (and a cycle is caught before by the reached pages).
const maxDepth = 64

// Report is what a check of a whole bbolt file found.
type Report struct {
	Size     int64  // bytes in the file
	PageSize int    // from its meta pages; 0 when neither is readable
	TxID     uint64 // the last committed transaction, by the meta in use
	Pages    uint64 // pages in use (bbolt's high-water mark), the metas included
	Free     int    // pages on the freelist
	Buckets  int    // buckets at every level
	Keys     int    // keys that are not buckets
	Problems []string
	More     int // problems found beyond those listed

	layout []PageInfo
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Summary is the first problem, with how many more there are, for a
// one-sentence message.
func (r *Report) Summary() string {
	switch n := len(r.Problems) + r.More; n {
	case 0:
		return ""
	case 1:
		return r.Problems[0]
	case 2:
		return r.Problems[0] + " (and 1 more problem)"
	default:
		return fmt.Sprintf("%s (and %d more problems)", r.Problems[0], n-1)
	}
}

// PageInfo describes one page of the file, for tools and tests that need
// to know what is where.
type PageInfo struct {
	ID     uint64
	Kind   string // meta, freelist, branch, leaf or free
	Bucket string // the bucket a branch or leaf page belongs to, "" for the root
	Depth  int    // 0 for a bucket's root page
}

type checker struct {
	r      io.ReaderAt
	rep    *Report
	ps     uint64
	hwm    uint64
	reach  []uint64 // bitsets over page ids
	freed  []uint64
	bufs   [][]byte // one page buffer per tree depth, so a parent's keys survive its children
	layout bool
}

// inspect checks the whole file read through r, which is size bytes long.
// It reads with ReadAt only, never through a memory map, so no damage can
// make it fault; every offset and page id is bounds-checked before use.
func inspect(r io.ReaderAt, size int64, layout bool) *Report {
	c := &checker{r: r, rep: &Report{Size: size}, layout: layout}
	c.run()
	return c.rep
}

func (c *checker) problem(format string, args ...any) {
	if len(c.rep.Problems) >= maxProblems {
		c.rep.More++
		return
	}
	c.rep.Problems = append(c.rep.Problems, strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " "))
}

func (c *checker) run() {
	size := c.rep.Size
	if size == 0 {
		c.problem("it is empty (0 bytes), so it has lost every record it held")
		return
	}
	if size < metaEnd {
		c.problem("it is only %s long, shorter than one bbolt meta page: it was cut short or is not a bbolt file", plural(size, "byte"))
		return
	}
	first := make([]byte, metaEnd)
	if _, err := c.r.ReadAt(first, 0); err != nil {
		c.problem("its first page cannot be read: %v", err)
		return
	}
	m0 := readMeta(first)
	ps := uint64(0)
	if metaProblem(m0) == "" {
		ps = uint64(m0.pageSize)
	} else {
		// bbolt finds the second meta page the same way when the first
		// is unreadable: at each possible page size.
		for s := uint64(minPageSize); s <= maxPageSize && int64(s)+metaEnd <= size; s <<= 1 {
			b := make([]byte, metaEnd)
			if _, err := c.r.ReadAt(b, int64(s)); err != nil {
				break
			}
			if m := readMeta(b); metaProblem(m) == "" && uint64(m.pageSize) == s {
				ps = s
				break
			}
		}
	}
	if ps == 0 {
		if m0.magic != magic {
			c.problem("it is not a bbolt file, or both its meta pages are destroyed: the first page does not start with bbolt's magic number")
		} else {
			c.problem("both its meta pages are damaged (meta page 0 %s), so the file cannot be read", metaProblem(m0))
		}
		return
	}
	c.ps = ps
	c.rep.PageSize = int(ps)

	// Both meta pages must be intact. bbolt would silently fall back to
	// the older one, losing the last transaction (a certificate issued, a
	// sale journaled) without a word; a changed meta page means the disk
	// or someone changed the file, and that is for a person to look at.
	var metas [2]meta
	var valid [2]bool
	for i := range 2 {
		off := int64(i) * int64(ps)
		if off+metaEnd > size {
			c.problem("it is %d bytes long and ends before meta page %d: it was cut short", size, i)
			continue
		}
		b := make([]byte, metaEnd)
		if _, err := c.r.ReadAt(b, off); err != nil {
			c.problem("meta page %d cannot be read: %v", i, err)
			continue
		}
		h, m := readHeader(b), readMeta(b)
		metas[i] = m
		if p := metaProblem(m); p != "" {
			c.problem("meta page %d %s", i, p)
			continue
		}
		valid[i] = true
		switch {
		case uint64(m.pageSize) != ps:
			c.problem("meta page %d says pages are %d bytes, the other meta page %d", i, m.pageSize, ps)
			valid[i] = false
		case h.id != uint64(i) || h.flags != flagMeta:
			c.problem("meta page %d has a damaged page header: it says page %d of kind %s", i, h.id, pageKind(h.flags))
		case m.txid%2 != uint64(i):
			c.problem("meta page %d holds transaction %d, which belongs in the other meta page", i, m.txid)
		}
	}
	active := -1
	for i := range 2 {
		if valid[i] && (active < 0 || metas[i].txid > metas[active].txid) {
			active = i
		}
	}
	if active < 0 {
		return
	}
	m := metas[active]
	c.rep.TxID = m.txid
	c.hwm = m.pgid
	c.rep.Pages = m.pgid
	switch {
	case m.pgid < 4:
		c.problem("meta page %d says only %d pages are in use; a bbolt file has at least 4", active, m.pgid)
		return
	case m.root < 2 || m.root >= m.pgid:
		c.problem("meta page %d puts the root of the tree at page %d, outside the pages in use (2 to %d)", active, m.root, m.pgid-1)
		return
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid):
		c.problem("meta page %d puts the freelist at page %d, outside the pages in use (2 to %d)", active, m.freelist, m.pgid-1)
		return
	}
	if need := m.pgid * ps; need/ps != m.pgid || need > uint64(size) {
		c.problem("it is %d bytes long, but its meta page says %d pages of %d bytes are in use: it was cut short", size, m.pgid, ps)
		return
	}
	words := (m.pgid + 63) / 64
	c.reach, c.freed = make([]uint64, words), make([]uint64, words)
	c.mark(0)
	c.mark(1)
	if c.layout {
		c.rep.layout = append(c.rep.layout, PageInfo{ID: 0, Kind: "meta"}, PageInfo{ID: 1, Kind: "meta"})
	}
	if m.freelist != noFreelist {
		c.freelist(m.freelist)
	}
	c.visit("", m.root, nil, nil, 0)
	if m.freelist != noFreelist {
		// Without a stored freelist (bbolt's NoFreelistSync) the free
		// pages are whatever the tree does not use.
		c.unaccounted()
	}
}

// metaProblem says what is wrong with a meta, "" if nothing.
func metaProblem(m meta) string {
	switch {
	case m.magic != magic:
		return "does not carry bbolt's magic number"
	case m.version != formatVersion:
		return fmt.Sprintf("says format version %d, not %d", m.version, formatVersion)
	case m.checksum != m.sum:
		return "fails its checksum: its content changed"
	case m.pageSize < minPageSize || m.pageSize > maxPageSize:
		return fmt.Sprintf("gives an impossible page size of %d bytes", m.pageSize)
	}
	return ""
}

func has(set []uint64, id uint64) bool { return set[id/64]&(1<<(id%64)) != 0 }
func (c *checker) mark(id uint64)      { c.reach[id/64] |= 1 << (id % 64) }

// read reads page id with its overflow pages into the buffer of depth.
func (c *checker) read(id uint64, depth int) ([]byte, pageHeader, bool) {
	for len(c.bufs) <= depth {
		c.bufs = append(c.bufs, nil)
	}
	buf := c.bufs[depth]
	if uint64(cap(buf)) < c.ps {
		buf = make([]byte, c.ps)
	}
	buf = buf[:c.ps]
	if _, err := c.r.ReadAt(buf, int64(id*c.ps)); err != nil {
		c.problem("page %d cannot be read: %v", id, err)
		return nil, pageHeader{}, false
	}
	h := readHeader(buf)
	if h.overflow > 0 {
		n := uint64(h.overflow) + 1
		if id+n > c.hwm || id+n < id {
			c.problem("page %d (%s) says it spans %d pages, past the last page in use (%d)", id, pageKind(h.flags), n, c.hwm-1)
			return nil, h, false
		}
		if uint64(cap(buf)) < n*c.ps {
			buf = make([]byte, n*c.ps)
		}
		buf = buf[:n*c.ps]
		if _, err := c.r.ReadAt(buf, int64(id*c.ps)); err != nil {
			c.problem("page %d cannot be read: %v", id, err)
			return nil, h, false
		}
	}
	c.bufs[depth] = buf
	return buf, h, true
}

// claim marks the pages of a page as in use, reporting any used twice.
func (c *checker) claim(id uint64, h pageHeader, owner string) bool {
	for p := id; p <= id+uint64(h.overflow); p++ {
		if has(c.reach, p) {
			c.problem("page %d is used twice (again by %s): the tree is damaged", p, owner)
			return false
		}
		c.mark(p)
	}
	return true
}

func (c *checker) freelist(id uint64) {
	buf, h, ok := c.read(id, 0)
	if !ok {
		return
	}
	if h.id != id || h.flags != flagFreelist {
		c.problem("the freelist's page %d is damaged: its header says page %d of kind %s", id, h.id, pageKind(h.flags))
		return
	}
	if !c.claim(id, h, "the freelist") {
		return
	}
	if c.layout {
		for p := id; p <= id+uint64(h.overflow); p++ {
			c.rep.layout = append(c.rep.layout, PageInfo{ID: p, Kind: "freelist"})
		}
	}
	data := buf[pageHeaderSize:]
	count := uint64(h.count)
	if h.count == 0xFFFF {
		count = order.Uint64(data)
		data = data[8:]
	}
	if count > uint64(len(data))/8 {
		c.problem("the freelist's page %d claims %d free pages, more than it has room for", id, count)
		return
	}
	bad := 0
	for i := range count {
		p := order.Uint64(data[i*8:])
		switch {
		case p < 2 || p >= c.hwm:
			if bad++; bad == 1 {
				c.problem("the freelist names page %d as free, outside the pages in use (2 to %d)", p, c.hwm-1)
			}
		case has(c.freed, p):
			if bad++; bad == 1 {
				c.problem("the freelist names page %d as free twice", p)
			}
		default:
			c.freed[p/64] |= 1 << (p % 64)
			c.rep.Free++
		}
	}
	if bad > 1 {
		c.problem("the freelist has %d bad entries in all", bad)
	}
}

func bucketName(path string) string {
	if path == "" {
		return "the root bucket"
	}
	return "bucket " + strconv.Quote(path)
}

// visit checks the page id of bucket, and the subtree below it, whose keys
// must lie in [lo, hi) (nil: unbounded).
func (c *checker) visit(bucket string, id uint64, lo, hi []byte, depth int) {
	if depth > maxDepth {
		c.problem("the tree of %s is deeper than %d levels at page %d", bucketName(bucket), maxDepth, id)
		return
	}
	if id < 2 || id >= c.hwm {
		c.problem("%s points to page %d, outside the pages in use (2 to %d)", bucketName(bucket), id, c.hwm-1)
		return
	}
	if has(c.reach, id) {
		c.problem("page %d is used twice (again by %s): the tree is damaged", id, bucketName(bucket))
		return
	}
	buf, h, ok := c.read(id, depth)
	if !ok {
		return
	}
	if h.id != id {
		c.problem("page %d of %s says it is page %d", id, bucketName(bucket), h.id)
		return
	}
	if h.flags != flagBranch && h.flags != flagLeaf {
		c.problem("page %d of %s is of kind %s where a branch or leaf page belongs", id, bucketName(bucket), pageKind(h.flags))
		return
	}
	if has(c.freed, id) {
		c.problem("page %d of %s is in use and also on the freelist", id, bucketName(bucket))
	}
	if !c.claim(id, h, bucketName(bucket)) {
		return
	}
	if c.layout {
		c.rep.layout = append(c.rep.layout, PageInfo{ID: id, Kind: pageKind(h.flags), Bucket: bucket, Depth: depth})
	}
	c.elements(where{id: id, bucket: bucket}, buf, h, lo, hi, depth)
}

// where names a page for a problem: built only when there is one, since
// the check visits every page of files of a gigabyte.
type where struct {
	id     uint64 // 0 for an inline bucket's page
	bucket string
}

func (w where) String() string {
	if w.id == 0 {
		return "the inline page of " + bucketName(w.bucket)
	}
	return fmt.Sprintf("page %d of %s", w.id, bucketName(w.bucket))
}

// element is one element of a branch or leaf page whose header says
// flags; ok is false when its key and value are not inside the page.
func element(buf []byte, flags uint16, i, dataStart int) (key, value []byte, kind uint32, child uint64, ok bool) {
	e := pageHeaderSize + i*elementSize
	var pos, ksize, vsize uint64
	if flags == flagBranch {
		pos, ksize = uint64(order.Uint32(buf[e:])), uint64(order.Uint32(buf[e+4:]))
		child = order.Uint64(buf[e+8:])
	} else {
		kind = order.Uint32(buf[e:])
		pos, ksize, vsize = uint64(order.Uint32(buf[e+4:])), uint64(order.Uint32(buf[e+8:])), uint64(order.Uint32(buf[e+12:]))
	}
	start := uint64(e) + pos
	end := start + ksize + vsize
	if start < uint64(dataStart) || end > uint64(len(buf)) || ksize == 0 {
		return nil, nil, 0, 0, false
	}
	return buf[start : start+ksize], buf[start+ksize : end], kind, child, true
}

// elements checks the elements of a branch or leaf page held in buf (a
// page read from the file, or an inline bucket's page inside a value),
// then the pages and buckets they lead to.
func (c *checker) elements(at where, buf []byte, h pageHeader, lo, hi []byte, depth int) {
	count := int(h.count)
	dataStart := pageHeaderSize + count*elementSize
	if dataStart > len(buf) {
		c.problem("%s claims %d elements, more than fit in it", at, count)
		return
	}
	if h.flags == flagBranch && count == 0 {
		c.problem("%s is a branch page without elements", at)
		return
	}
	var prev []byte
	for i := range count {
		key, value, kind, _, ok := element(buf, h.flags, i, dataStart)
		switch {
		case !ok:
			c.problem("%s: element %d has its key and value outside the page", at, i)
			return
		case i > 0 && bytes.Compare(prev, key) >= 0:
			c.problem("%s: key %d is not after key %d, the keys are out of order", at, i, i-1)
			return
		case i == 0 && lo != nil && bytes.Compare(key, lo) < 0,
			i == count-1 && hi != nil && bytes.Compare(key, hi) >= 0:
			c.problem("%s: key %d lies outside the range its parent page gives it", at, i)
			return
		case kind&^leafFlagBucket != 0:
			c.problem("%s: element %d has unknown flags %#x", at, i, kind)
			return
		case kind&leafFlagBucket != 0 && len(value) < bucketHeader:
			c.problem("%s: element %d is a bucket with a %d-byte header, shorter than bbolt's %d", at, i, len(value), bucketHeader)
			return
		}
		prev = key
	}
	for i := range count {
		key, value, kind, child, _ := element(buf, h.flags, i, dataStart)
		if h.flags == flagBranch {
			next := hi
			if i+1 < count {
				next, _, _, _, _ = element(buf, h.flags, i+1, dataStart)
			}
			c.visit(at.bucket, child, key, next, depth+1)
			continue
		}
		if kind&leafFlagBucket == 0 {
			c.rep.Keys++
			continue
		}
		c.rep.Buckets++
		name := string(key)
		if at.bucket != "" {
			name = at.bucket + "/" + name
		}
		c.bucket(name, value, depth)
	}
}

// bucket checks a bucket from its value in the parent's leaf.
func (c *checker) bucket(name string, v []byte, depth int) {
	root := order.Uint64(v)
	if root != 0 {
		c.visit(name, root, nil, nil, depth+1)
		return
	}
	page := v[bucketHeader:]
	if len(page) < pageHeaderSize {
		c.problem("%s is kept inline but has no room for its page", bucketName(name))
		return
	}
	h := readHeader(page)
	if h.flags != flagLeaf || h.overflow != 0 {
		c.problem("%s is kept inline but its page is of kind %s", bucketName(name), pageKind(h.flags))
		return
	}
	c.elements(where{bucket: name}, page, h, nil, nil, depth+1)
}

// unaccounted reports pages that are neither reachable nor free: a
// branch that lost a child, or a freelist that lost entries.
func (c *checker) unaccounted() {
	var lost []uint64
	n := 0
	for p := uint64(2); p < c.hwm; p++ {
		switch {
		case has(c.reach, p):
		case has(c.freed, p):
			if c.layout {
				c.rep.layout = append(c.rep.layout, PageInfo{ID: p, Kind: "free"})
			}
		default:
			if n++; len(lost) < 5 {
				lost = append(lost, p)
			}
		}
	}
	if n > 0 {
		ids := make([]string, len(lost))
		for i, p := range lost {
			ids[i] = strconv.FormatUint(p, 10)
		}
		what := plural(int64(n), "page") + " are"
		if n == 1 {
			what = "1 page is"
		}
		c.problem("%s neither in use nor free (page %s): part of the tree or the freelist was lost", what, strings.Join(ids, ", "))
	}
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}
