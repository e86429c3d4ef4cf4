// Package bolttest damages copies of bbolt files the ways disks and crashes
// do, for tests of the programs that open them: cut short at several
// lengths, and single bits changed in each kind of page.
package bolttest

import (
	"errors"
	"fmt"
	"os"

	"github.com/sportello/sportello/internal/store/bolt/boltfile"
)

// Damage is one way of damaging a file.
type Damage struct {
	Name  string
	Apply func(path string) error
}

// Damages are the ways to damage a copy of the intact bbolt file at path,
// worked out from its layout: the file cut to 0 bytes, 1 byte, half a
// page, the first meta page only and the middle of the pages in use; one
// bit changed in meta page 0, in meta page 1, in both, in a branch page, in
// a leaf page and in the freelist. Each of them leaves a file that
// boltfile's check refuses.
func Damages(path string) ([]Damage, error) {
	rep, pages, err := boltfile.Layout(path)
	if err != nil {
		return nil, err
	}
	if !rep.OK() {
		return nil, fmt.Errorf("%s is damaged already: %s", path, rep.Summary())
	}
	ps := int64(rep.PageSize)
	find := func(kind string) (uint64, error) {
		// The deepest page of the kind: the middle of a bucket's tree,
		// not a root the program may read first by chance.
		best, depth := uint64(0), -1
		for _, p := range pages {
			if p.Kind == kind && p.Depth > depth {
				best, depth = p.ID, p.Depth
			}
		}
		if depth < 0 {
			return 0, fmt.Errorf("%s has no %s page", path, kind)
		}
		return best, nil
	}
	branch, err := find("branch")
	if err != nil {
		return nil, err
	}
	leaf, err := find("leaf")
	if err != nil {
		return nil, err
	}
	freelist, err := find("freelist")
	if err != nil {
		return nil, err
	}
	truncate := func(n int64) func(string) error {
		return func(p string) error { return os.Truncate(p, n) }
	}
	const (
		metaRoot     = 32 // the meta's root page id, covered by its checksum
		elementChild = 16 + 8
		headerCount  = 10
	)
	return []Damage{
		{"cut to 0 bytes", truncate(0)},
		{"cut to 1 byte", truncate(1)},
		{"cut to half a page", truncate(ps / 2)},
		{"cut after the first meta page", truncate(ps)},
		{"cut in the middle of the pages in use", truncate(int64(rep.Pages) * ps / 2)},
		{"a bit changed in meta page 0", flips(metaRoot)},
		{"a bit changed in meta page 1", flips(ps + metaRoot)},
		{"a bit changed in both meta pages", flips(metaRoot, ps+metaRoot)},
		// The lowest bit of the first child's page id: the branch now
		// points at a neighbouring page and loses its own child.
		{fmt.Sprintf("a bit changed in branch page %d", branch), flips(int64(branch)*ps + elementChild)},
		// The element count: the page claims thousands of elements.
		{fmt.Sprintf("a bit changed in leaf page %d", leaf), flipBit(int64(leaf)*ps+headerCount+1, 3)},
		// The freelist's count, one more or one fewer free page.
		{fmt.Sprintf("a bit changed in the freelist (page %d)", freelist), flips(int64(freelist)*ps + headerCount)},
	}, nil
}

// flips changes the lowest bit of the byte at each offset.
func flips(offsets ...int64) func(string) error {
	return func(path string) error {
		for _, off := range offsets {
			if err := FlipBit(path, off, 0); err != nil {
				return err
			}
		}
		return nil
	}
}

func flipBit(off int64, bit uint) func(string) error {
	return func(path string) error { return FlipBit(path, off, bit) }
}

// FlipBit changes one bit of the byte at off in the file at path.
func FlipBit(path string, off int64, bit uint) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		return err
	}
	b[0] ^= 1 << bit
	_, err = f.WriteAt(b, off)
	return err
}

// ValueOffset is the offset in the file at path of the middle of the first
// value on a leaf page of bucket (a bucket with pages of its own, not
// kept inline): where a changed bit alters a record and nothing of the
// file's structure.
func ValueOffset(path, bucket string) (int64, error) {
	rep, pages, err := boltfile.Layout(path)
	if err != nil {
		return 0, err
	}
	ps := int64(rep.PageSize)
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	for _, p := range pages {
		if p.Kind != "leaf" || p.Bucket != bucket {
			continue
		}
		page := make([]byte, ps)
		if _, err := f.ReadAt(page, int64(p.ID)*ps); err != nil {
			return 0, err
		}
		if count := int(page[10]) | int(page[11])<<8; count == 0 {
			continue
		}
		// Element 0: flags, pos, ksize, vsize (little-endian machines).
		le := func(o int) int64 {
			return int64(page[o]) | int64(page[o+1])<<8 | int64(page[o+2])<<16 | int64(page[o+3])<<24
		}
		pos, ksize, vsize := le(16+4), le(16+8), le(16+12)
		if vsize == 0 {
			continue
		}
		return int64(p.ID)*ps + 16 + pos + ksize + vsize/2, nil
	}
	return 0, errors.New("no leaf page of bucket " + bucket + " with a value")
}
