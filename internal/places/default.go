package places

import (
	"fmt"
	"io/fs"
	"sync"

	"github.com/sportello/sportello/assets"
)

// defaultFiles are the embedded tables, relative to assets.FS.
var defaultFiles = []string{"places/comuni.csv", "places/stati.csv"}

var defaultTable = sync.OnceValue(func() *Table {
	t, err := loadFS(assets.FS, defaultFiles...)
	if err != nil {
		// The files are embedded at build time and checked by the tests, so
		// a failure here is a broken build, not bad input.
		panic(err)
	}
	return t
})

// Default returns the embedded table: every provincial capital of Italy (with
// all historic records of their codes) and the foreign states with a Z code,
// plus Z000 for Italy. Other comuni come from importing ANPR's archive.
// The table is shared: callers must not Add to it; build their own with
// Default().Clone() when they need to extend it.
func Default() *Table { return defaultTable() }

func loadFS(fsys fs.FS, names ...string) (*Table, error) {
	var all []Place
	for _, name := range names {
		f, err := fsys.Open(name)
		if err != nil {
			return nil, fmt.Errorf("opening embedded places file %s: %w", name, err)
		}
		ps, err := ParseCSV(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		all = append(all, ps...)
	}
	return NewTable(all), nil
}
