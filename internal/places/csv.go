package places

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The project's own places format, used for the embedded default table
// (assets/places/*.csv, described in assets/places/README.md): UTF-8 CSV with
// the header below, one validity period a row, dates as YYYY-MM-DD and an empty
// "to" while the record is still valid.
var csvHeader = []string{"code", "kind", "name", "province", "istat", "iso3", "from", "to"}

const isoDate = "2006-01-02"

// ParseCSV reads the project's own places format.
func ParseCSV(r io.Reader) ([]Place, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("places file is empty: it should start with the header " + strings.Join(csvHeader, ","))
	}
	if err != nil {
		return nil, csvError("places file", err)
	}
	if strings.Join(head, ",") != strings.Join(csvHeader, ",") {
		return nil, fmt.Errorf("places file line 1 has header %q, want %q", strings.Join(head, ","), strings.Join(csvHeader, ","))
	}
	return readPlaces(cr, "places file", func(rec []string) (p Place, ok bool, err error) {
		p = Place{Code: rec[0], Name: rec[2], Province: rec[3], ISTAT: rec[4], ISO3: rec[5]}
		switch rec[1] {
		case "comune":
			p.Kind = Comune
		case "state":
			p.Kind = State
		default:
			return p, false, fmt.Errorf("has kind %q, which is neither \"comune\" nor \"state\"", rec[1])
		}
		p.From, p.To, err = span(isoDate, "from date", rec[6], "to date", rec[7], "")
		return p, true, err
	})
}

// readPlaces reads cr to its end, turning each record into a Place with
// row, which says ok=false for a record to skip. row's error, like
// checkPlace's, is the rest of a sentence starting "… line N".
func readPlaces(cr *csv.Reader, what string, row func(rec []string) (p Place, ok bool, err error)) ([]Place, error) {
	var out []Place
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, csvError(what, err)
		}
		line, _ := cr.FieldPos(0)
		p, ok, err := row(rec)
		if err == nil && ok {
			err = checkPlace(p)
		}
		if err != nil {
			return nil, fmt.Errorf("%s line %d %s", what, line, err)
		}
		if ok {
			out = append(out, p)
		}
	}
}

// span parses a validity period laid out as layout. An end equal to open,
// the file's way of saying "still valid", leaves to zero. The error is the
// rest of a sentence starting "… line N", naming the column.
func span(layout, fromCol, from, toCol, to, open string) (start, end time.Time, err error) {
	shape := "YYYY-MM-DD"
	if layout == anprStatiDate {
		shape = "dd/mm/yyyy"
	}
	if start, err = time.Parse(layout, from); err != nil {
		return start, end, fmt.Errorf("has %s %q, which is not a %s date", fromCol, from, shape)
	}
	if to != open {
		if end, err = time.Parse(layout, to); err != nil {
			return start, end, fmt.Errorf("has %s %q, which is not a %s date", toCol, to, shape)
		}
	}
	return start, end, nil
}

// WriteCSV writes places in the format ParseCSV reads.
func WriteCSV(w io.Writer, ps []Place) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, p := range ps {
		kind := "comune"
		if p.Kind == State {
			kind = "state"
		}
		to := ""
		if !p.To.IsZero() {
			to = p.To.Format(isoDate)
		}
		if err := cw.Write([]string{p.Code, kind, p.Name, p.Province, p.ISTAT, p.ISO3, p.From.Format(isoDate), to}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// IsCode reports whether s has the shape of a Belfiore code: an upper-case
// letter and three digits (Z for foreign states).
func IsCode(s string) bool {
	if len(s) != 4 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkPlace returns the rest of a sentence starting "… line N".
func checkPlace(p Place) error {
	switch {
	case !IsCode(p.Code):
		return fmt.Errorf("has code %q, which is not a Belfiore code (a letter and three digits)", p.Code)
	case strings.TrimSpace(p.Name) == "":
		return fmt.Errorf("has no name for code %s", p.Code)
	case !p.To.IsZero() && p.To.Before(p.From):
		return fmt.Errorf("ends (%s) before it starts (%s)", p.To.Format(isoDate), p.From.Format(isoDate))
	}
	return nil
}

// csvError turns encoding/csv's error into one sentence naming the line.
func csvError(what string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s line %d is not valid CSV: %v", what, pe.Line, pe.Err)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}
