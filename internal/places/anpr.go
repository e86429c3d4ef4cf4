package places

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
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
	code, name, from, to := cols["CODCATASTALE"], cols["DENOMINAZIONE_IT"], cols["DATAISTITUZIONE"], cols["DATACESSAZIONE"]
	prov, istat := cols["SIGLAPROVINCIA"], cols["CODISTAT"]
	return readPlaces(cr, "ANPR archive of comuni", func(rec []string) (p Place, ok bool, err error) {
		if rec[code] == "ND" {
			return p, false, nil
		}
		p = Place{Code: rec[code], Name: rec[name], Kind: Comune, Province: rec[prov], ISTAT: rec[istat]}
		p.From, p.To, err = span(isoDate, "DATAISTITUZIONE", rec[from], "DATACESSAZIONE", rec[to], anprEnd)
		return p, true, err
	})
}

const anprStatiDate = "02/01/2006"

func parseStati(cr *csv.Reader, cols map[string]int) ([]Place, error) {
	code, name, from, to := cols["CODAT"], cols["DENOMINAZIONE"], cols["DATAINIZIOVALIDITA"], cols["DATAFINEVALIDITA"]
	iso3, istat := cols["CODISO3166_1_ALPHA3"], cols["CODISTAT"]
	return readPlaces(cr, "ANPR foreign states table", func(rec []string) (p Place, ok bool, err error) {
		if strings.TrimSpace(rec[code]) == "" {
			return p, false, nil
		}
		p = Place{Code: rec[code], Name: rec[name], Kind: State, ISO3: rec[iso3], ISTAT: rec[istat]}
		p.From, p.To, err = span(anprStatiDate, "DATAINIZIOVALIDITA", rec[from], "DATAFINEVALIDITA", rec[to], "31/12/9999")
		return p, true, err
	})
}
