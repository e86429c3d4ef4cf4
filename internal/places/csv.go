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
	var out []Place
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, csvError("places file", err)
		}
		line, _ := cr.FieldPos(0)
		p := Place{Code: rec[0], Name: rec[2], Province: rec[3], ISTAT: rec[4], ISO3: rec[5]}
		switch rec[1] {
		case "comune":
			p.Kind = Comune
		case "state":
			p.Kind = State
		default:
			return nil, fmt.Errorf("places file line %d has kind %q, which is neither \"comune\" nor \"state\"", line, rec[1])
		}
		if p.From, err = time.Parse(isoDate, rec[6]); err != nil {
			return nil, fmt.Errorf("places file line %d has from date %q, which is not a YYYY-MM-DD date", line, rec[6])
		}
		if rec[7] != "" {
			if p.To, err = time.Parse(isoDate, rec[7]); err != nil {
				return nil, fmt.Errorf("places file line %d has to date %q, which is not a YYYY-MM-DD date", line, rec[7])
			}
		}
		if err := checkPlace(p); err != nil {
			return nil, fmt.Errorf("places file line %d %s", line, err)
		}
		out = append(out, p)
	}
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
