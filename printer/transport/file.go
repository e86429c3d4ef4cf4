package transport

import (
	"context"
	"fmt"
	"os"

	"github.com/sportello/sportello/printer"
)

// File writes each job to a file, replacing it: the demo printer, and a way
// to look at exactly what a printer would receive.
type File struct {
	Path string
}

func (f *File) Send(_ context.Context, job printer.Job) error {
	// 0600: a job is a document for one person, not for every user of the machine.
	if err := os.WriteFile(f.Path, job.Data, 0o600); err != nil {
		return fmt.Errorf("cannot write the print job to %s: %w", f.Path, err)
	}
	return nil
}

func (f *File) Status(context.Context) (printer.Status, error) {
	return printer.Status{}, printer.ErrNoStatus
}

func (f *File) Close() error { return nil }
