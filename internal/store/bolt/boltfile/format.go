package boltfile

import (
	"encoding/binary"
	"hash/fnv"
)

// The on-disk layout of a bbolt file, version 2 (go.etcd.io/bbolt's
// internal/common). bbolt writes its structures in the machine's byte
// order, so a file is read back in the same one.
//
// Every page starts with a 16-byte header: id u64, flags u16, count u16,
// overflow u32 (the page spans 1+overflow pages). Pages 0 and 1 are the
// two meta pages, written alternately by even and odd transactions; the
// meta follows the header:
//
//	magic u32, version u32, pageSize u32, flags u32,
//	root bucket {root page u64, sequence u64},
//	freelist page u64, high-water mark u64 (pages in use), txid u64,
//	checksum u64 (FNV-64a of the 56 bytes before it)
//
// A branch page's elements are {pos u32, ksize u32, child page u64}, a
// leaf page's {flags u32, pos u32, ksize u32, vsize u32}; pos counts from
// the element itself. A leaf element with flag 1 is a bucket whose value
// is {root page u64, sequence u64}, followed by the bucket's own page when
// root is 0 (an inline bucket). A freelist page's count is the number of
// page ids after the header, or 0xFFFF with the real count as the first
// u64.
const (
	magic          = 0xED0CDAED
	formatVersion  = 2
	pageHeaderSize = 16
	elementSize    = 16
	metaEnd        = pageHeaderSize + 64 // the meta, checksum included
	bucketHeader   = 16

	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagMeta     = 0x04
	flagFreelist = 0x10

	leafFlagBucket = 0x01

	noFreelist = ^uint64(0)

	// minPageSize is the smallest page bbolt looks for a second meta page
	// at; maxPageSize the largest (bbolt's own search stops at 16 MiB).
	minPageSize = 1024
	maxPageSize = 16 << 20
)

var order = binary.NativeEndian

type pageHeader struct {
	id       uint64
	flags    uint16
	count    uint16
	overflow uint32
}

func readHeader(b []byte) pageHeader {
	return pageHeader{id: order.Uint64(b[0:]), flags: order.Uint16(b[8:]), count: order.Uint16(b[10:]), overflow: order.Uint32(b[12:])}
}

type meta struct {
	magic, version, pageSize, flags uint32
	root, sequence                  uint64
	freelist, pgid, txid            uint64
	checksum, sum                   uint64
}

// readMeta decodes the meta of a meta page (at least metaEnd bytes).
func readMeta(page []byte) meta {
	b := page[pageHeaderSize:]
	h := fnv.New64a()
	h.Write(b[:56])
	return meta{
		magic: order.Uint32(b[0:]), version: order.Uint32(b[4:]), pageSize: order.Uint32(b[8:]), flags: order.Uint32(b[12:]),
		root: order.Uint64(b[16:]), sequence: order.Uint64(b[24:]),
		freelist: order.Uint64(b[32:]), pgid: order.Uint64(b[40:]), txid: order.Uint64(b[48:]),
		checksum: order.Uint64(b[56:]), sum: h.Sum64(),
	}
}

func pageKind(flags uint16) string {
	switch flags {
	case flagBranch:
		return "branch"
	case flagLeaf:
		return "leaf"
	case flagMeta:
		return "meta"
	case flagFreelist:
		return "freelist"
	}
	return "unknown"
}
