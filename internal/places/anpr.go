package places

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ANPR publishes its reference tables as CSV (CC BY 4.0, "Fonte: ANPR —
// Ministero dell'Interno"); cities keep their tables current by importing new
// releases, so the parser reads the files exactly as downloaded.

// Columns each ANPR file must have; other columns are ignored so that a
// release adding one does not break imports.
var (
	comuniColumns = []string{"CODCATASTALE", "DENOMINAZIONE_IT", "DATAISTITUZIONE", "DATACESSAZIONE", "SIGLAPROVINCIA", "CODISTAT"}
	statiColumns  = []string{"CODAT", "DENOMINAZIONE", "DATAINIZIOVALIDITA", "DATAFINEVALIDITA", "CODISO3166_1_ALPHA3", "CODISTAT"}
)

// ParseANPR reads either ANPR's archive of comuni (ANPR_archivio_comuni.csv)
// or its table of foreign states (stati_esteri.csv), telling them apart by
// the header.
//
// Rows that cannot be a birthplace in a codice fiscale are skipped: comuni
// whose cadastral code is "ND" (never assigned one), and foreign-state rows
// without a CODAT — Italy itself, dependent territories coded with their
// administering state's code, and citizenship-only entries such as
// APOLIDE.
func ParseANPR(r io.Reader) ([]Place, error) {
	// The archive of comuni starts with a UTF-8 byte order mark, which
	// encoding/csv would take as part of a quoted field.
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("ANPR file is empty: it should start with a header line")
	}
	if err != nil {
		return nil, csvError("ANPR file", err)
	}
	cols := make(map[string]int, len(head))
	for i, h := range head {
		cols[strings.TrimSpace(h)] = i
	}
	switch {
	case hasAll(cols, comuniColumns):
		return parseComuni(cr, cols)
	case hasAll(cols, statiColumns):
		return parseStati(cr, cols)
	}
	return nil, fmt.Errorf("ANPR file line 1 is neither the header of the archive of comuni (%s) nor that of the foreign states table (%s)",
		strings.Join(comuniColumns, ", "), strings.Join(statiColumns, ", "))
}

func hasAll(cols map[string]int, want []string) bool {
	for _, w := range want {
		if _, ok := cols[w]; !ok {
			return false
		}
	}
	return true
}

// anprEnd is ANPR's "still valid" end date.
const anprEnd = "9999-12-31"

func parseComuni(cr *csv.Reader, cols map[string]int) ([]Place, error) {
	const what = "ANPR archive of comuni"
	code, name, from, to := cols["CODCATASTALE"], cols["DENOMINAZIONE_IT"], cols["DATAISTITUZIONE"], cols["DATACESSAZIONE"]
	prov, istat := cols["SIGLAPROVINCIA"], cols["CODISTAT"]
	out := make([]Place, 0, 20000)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, csvError(what, err)
		}
		line, _ := cr.FieldPos(0)
		if rec[code] == "ND" {
			continue
		}
		p := Place{Code: rec[code], Name: rec[name], Kind: Comune, Province: rec[prov], ISTAT: rec[istat]}
		if p.From, err = time.Parse(isoDate, rec[from]); err != nil {
			return nil, fmt.Errorf("%s line %d has DATAISTITUZIONE %q, which is not a YYYY-MM-DD date", what, line, rec[from])
		}
		if rec[to] != anprEnd {
			if p.To, err = time.Parse(isoDate, rec[to]); err != nil {
				return nil, fmt.Errorf("%s line %d has DATACESSAZIONE %q, which is not a YYYY-MM-DD date", what, line, rec[to])
			}
		}
		if err := checkPlace(p); err != nil {
			return nil, fmt.Errorf("%s line %d %s", what, line, err)
		}
		out = append(out, p)
	}
}

const anprStatiDate = "02/01/2006"

func parseStati(cr *csv.Reader, cols map[string]int) ([]Place, error) {
	const what = "ANPR foreign states table"
	code, name, from, to := cols["CODAT"], cols["DENOMINAZIONE"], cols["DATAINIZIOVALIDITA"], cols["DATAFINEVALIDITA"]
	iso3, istat := cols["CODISO3166_1_ALPHA3"], cols["CODISTAT"]
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
		if strings.TrimSpace(rec[code]) == "" {
			continue
		}
		p := Place{Code: rec[code], Name: rec[name], Kind: State, ISO3: rec[iso3], ISTAT: rec[istat]}
		if p.From, err = time.Parse(anprStatiDate, rec[from]); err != nil {
			return nil, fmt.Errorf("%s line %d has DATAINIZIOVALIDITA %q, which is not a dd/mm/yyyy date", what, line, rec[from])
		}
		if rec[to] != "31/12/9999" {
			if p.To, err = time.Parse(anprStatiDate, rec[to]); err != nil {
				return nil, fmt.Errorf("%s line %d has DATAFINEVALIDITA %q, which is not a dd/mm/yyyy date", what, line, rec[to])
			}
		}
		if err := checkPlace(p); err != nil {
			return nil, fmt.Errorf("%s line %d %s", what, line, err)
		}
		out = append(out, p)
	}
}
