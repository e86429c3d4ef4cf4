package convention

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/settlement"
)

// File is one file of the kit.
type File struct {
	Name string
	Data []byte
}

// SHA256 is the file's digest in hex, as the manifest lists it.
func (f File) SHA256() string {
	sum := sha256.Sum256(f.Data)
	return hex.EncodeToString(sum[:])
}

// ManifestName is the manifest's file name. Its lines are those of
// sha256sum, so `sha256sum -c SHA256SUMS` checks the kit.
const ManifestName = "SHA256SUMS"

// Names of the kit's files for operator id.
func agreementName(id string) string { return "convenzione-" + id + ".pdf" }
func clerksName(id string) string    { return "addetti-" + id + ".csv" }
func retentionName() string          { return "conservazione.csv" }
func auditName(id string, p Period, ext string) string {
	return fmt.Sprintf("registro-accessi-%s-%s-%s.%s", id, p.From, p.To, ext)
}

// Files renders the kit: the annexes first, then the agreement, which
// lists the annexes with their SHA-256 so the signed paper binds them, then
// the manifest of them all. A section whose source is missing has no file.
func (k *Kit) Files() ([]File, error) {
	var files []File
	if k.Clerks != nil {
		b, err := k.clerksCSV()
		if err != nil {
			return nil, err
		}
		files = append(files, File{clerksName(k.Operator.ID), b})
	}
	if k.Retention != nil {
		b, err := k.retentionCSV()
		if err != nil {
			return nil, err
		}
		files = append(files, File{retentionName(), b})
	}
	b, err := k.auditCSV()
	if err != nil {
		return nil, err
	}
	files = append(files, File{auditName(k.Operator.ID, k.Period, "csv"), b})
	if b, err = k.auditPDF(); err != nil {
		return nil, err
	}
	files = append(files, File{auditName(k.Operator.ID, k.Period, "pdf"), b})
	if b, err = k.agreementPDF(files); err != nil {
		return nil, err
	}
	files = append(files, File{agreementName(k.Operator.ID), b})
	var m bytes.Buffer
	for _, f := range files {
		fmt.Fprintf(&m, "%s  %s\n", f.SHA256(), f.Name)
	}
	return append(files, File{ManifestName, m.Bytes()}), nil
}

// italianCSV writes rows the way the console's exports do: ';' between
// fields, decimal commas, and every cell a spreadsheet could run as a
// formula defused.
func italianCSV(rows [][]string) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = ';'
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = settlement.Neutral(c)
		}
		if err := w.Write(cells); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// AuditHeader is the header of the audit extract's CSV.
var AuditHeader = []string{"n", "data_ora", "esercente", "attore", "addetto", "interessato_cf", "dati", "canale", "finalita", "richiesta"}

func (k *Kit) auditCSV() ([]byte, error) {
	rows := [][]string{AuditHeader}
	for _, e := range k.Audit {
		rows = append(rows, []string{
			strconv.FormatUint(e.Seq, 10), e.Time.In(protocol.Rome).Format("2006-01-02 15:04:05"), k.Operator.ID,
			e.Actor.String(), clerkLabel(e.Clerk), e.Subject, e.Data, e.Channel, e.Purpose, e.Request,
		})
	}
	return italianCSV(rows)
}

// ClerksHeader is the header of the clerks' CSV.
var ClerksHeader = []string{"esercente", "cognome_nome", "codice_fiscale", "formazione", "abilitato_fino_al", "stato", "accesso"}

func (k *Kit) clerksCSV() ([]byte, error) {
	rows := [][]string{ClerksHeader}
	for _, c := range *k.Clerks {
		rows = append(rows, []string{k.Operator.ID, c.Name, c.CF, c.TrainedOn.String(), c.EnabledUntil.String(), c.Status, c.Login})
	}
	return italianCSV(rows)
}

// RetentionHeader is the header of the retention settings' CSV.
var RetentionHeader = []string{"voce", "valore", "unita"}

func (k *Kit) retentionCSV() ([]byte, error) {
	r := k.Retention
	return italianCSV([][]string{RetentionHeader,
		{"conservazione_dati_rilascio_e_registro_accessi", strconv.Itoa(r.RecordMonths), "mesi"},
		{"pdf_riscaricabile", strconv.Itoa(r.PDFDays), "giorni"},
	})
}

func (k *Kit) retentionSettings() []Setting {
	r := k.Retention
	out := []Setting{
		{"Conservazione", months(r.RecordMonths) + " (dati di rilascio e voci del registro degli accessi)"},
		{"PDF riscaricabile", days(r.PDFDays) + " dal rilascio"},
	}
	return append(out, r.Other...)
}

func months(n int) string {
	if n == 1 {
		return "1 mese"
	}
	return strconv.Itoa(n) + " mesi"
}

func days(n int) string {
	if n == 1 {
		return "1 giorno"
	}
	return strconv.Itoa(n) + " giorni"
}

// Zip packs files into one archive under the folder dir, for a download
// that gives the same files as the command line.
func Zip(dir string, files []File, modified time.Time) ([]byte, error) {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, f := range files {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: dir + "/" + f.Name, Method: zip.Deflate, Modified: modified})
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// DirName is the kit's folder name for operator id at instant at:
// "convenzione-op-0001-2026-03-10".
func DirName(id string, at time.Time) string {
	return "convenzione-" + id + "-" + protocol.DayOf(at).String()
}
