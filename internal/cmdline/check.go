package cmdline

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/sportello/sportello/internal/store/bolt/boltfile"
)

// PrintStructure lists on w what boltfile.Check found in file, as hub check
// and kiosk check show it: the file's size, its pages and then either each
// problem of its structure (and a DamageError summing them up is returned)
// or that the structure is intact.
func PrintStructure(w io.Writer, file string, rep *boltfile.Report) error {
	fmt.Fprintf(w, "file       %s, %d bytes\n", file, rep.Size)
	if rep.PageSize > 0 {
		fmt.Fprintf(w, "bbolt      pages of %d bytes, %d in use, %d free, last transaction %d\n", rep.PageSize, rep.Pages, rep.Free, rep.TxID)
	}
	if !rep.OK() {
		PrintDamage(w, "structure", rep.Problems, rep.More)
		return &boltfile.DamageError{Path: file, Problem: rep.Summary()}
	}
	fmt.Fprintf(w, "structure  %d buckets, %d keys: intact\n", rep.Buckets, rep.Keys)
	return nil
}

// PrintDamage lists on w the problems a check found in what, one a line,
// and how many more it found without listing them.
func PrintDamage(w io.Writer, what string, problems []string, more int) {
	for _, p := range problems {
		fmt.Fprintf(w, "DAMAGED    %s: %s\n", what, p)
	}
	if more > 0 {
		fmt.Fprintf(w, "DAMAGED    %s: and %d more problems\n", what, more)
	}
}

// AdviseDamage replaces an error that comes from a damaged file, however
// deep in a store's message it is, with the sentence the staff read: what
// is wrong, and what to do. check is the command that checks the file, to
// which the file's directory is given ("hub check --data").
func AdviseDamage(err error, check string) error {
	if d, ok := boltfile.AsDamage(err); ok {
		return damagedFile{d, check}
	}
	return err
}

type damagedFile struct {
	d     *boltfile.DamageError
	check string
}

func (e damagedFile) Error() string {
	return fmt.Sprintf("%s; stop using it, restore it from the last backup and run `%s %s`", e.d, e.check, filepath.Dir(e.d.Path))
}

func (e damagedFile) Unwrap() error { return e.d }
