package certificate

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// The stored form of a record, shared by the stores so a record costs the
// same on each: issue 16 allows at most 2 KB per certificate once its PDF
// is gone, indexes included, and a record's JSON alone is 1.0–1.5 KB. A
// record is small and repetitive (the same keys, fee labels and legal
// notes on every certificate), which flate compresses well only with a
// preset dictionary of that common text: about three times smaller.
//
// The first byte says the form: '{' is plain JSON (records written before
// this form, and still read), storedFlate1 is flate with dictionary 1.
// A dictionary, once records were written with it, never changes: a new
// one gets a new form byte.
const storedFlate1 = 0x01

// dict1 is text records share, the commonest last (flate finds near
// matches cheaper).
const dict1 = `{"id":"","protocol":"c_f205.A1B2C3.CERT.2026/0000","types":["residenza","stato_di_famiglia","stato_civile","cittadinanza","nascita","esistenza_in_vita","matrimonio","stato_libero","unione_civile","contratto_di_convivenza","residenza_aire","stato_di_famiglia_aire","stato_di_famiglia_con_parentela","stato_di_famiglia_e_stato_civile","residenza_in_convivenza"],` +
	`"title":"CERTIFICATO CONTESTUALE DI RESIDENZA, DI STATO DI FAMIGLIA, DI CITTADINANZA, DI STATO CIVILE, DI NASCITA","subject_cf":"","subject_name":"","requester_cf":"","requester_kind":1,"channel":"counter","channel":"self_service","channel":"office","operator_id":"","clerk_id":"","clerk_name":"",` +
	`"exemption":{"code":0,"text":""},"contrassegno":"","use":"",` +
	`"fees":[{"kind":"bollo","label":"Imposta di bollo","cents":1600,"note":"art. 4, tariffa allegato A, parte I, DPR 642/1972"},{"kind":"diritti","label":"Diritti di segreteria","cents":52,"note":"L. 604/1962, tabella D"},{"kind":"diritti","label":"Diritti di segreteria","cents":26,"note":"esente"}],"total_cents":1652,` +
	`"facts":[{"Key":"nome","Value":""},{"Key":"cf","Value":""},{"Key":"nascita","Value":" il "},{"Key":"cittadinanza","Value":"ITALIANA"},{"Key":"stato_civile","Value":"CONIUGATO CONIUGATA CELIBE NUBILE"},{"Key":"residenza","Value":"Via , int. , 20100 MILANO (MI)\n"},{"Key":"stato_di_famiglia","Value":"\nVia Viale Piazza Corso , int. , 201 MILANO (MI)\n"}],` +
	`"issued":"2026-01-01T00:00:00.000000000Z","doc_sha256":"","pdf_deleted":"2026-01-01T00:00:00Z","forced":true,"payment_id":"","paid_with":"till","paid_with":"pagopa",` +
	`"status":"valid","status":"revoked","revoked_at":"","revoke_reason":"","revoked_by":"","idempotency_key":"","request_hash":"",` +
	`"signatory":"L'Ufficiale d'Anagrafe delegato","seal":"Sportello Hub Seal (certificato rilasciato da Sportello Hub CA)"}`

var (
	writers = sync.Pool{New: func() any {
		w, err := flate.NewWriterDict(nil, flate.BestCompression, []byte(dict1))
		if err != nil {
			panic(err) // only for a bad level, which is a constant
		}
		return w
	}}
	readers = sync.Pool{New: func() any { return flate.NewReaderDict(bytes.NewReader(nil), []byte(dict1)) }}
)

// EncodeRecord returns the stored form of r.
func EncodeRecord(r *Record) ([]byte, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(data)/2 + 8)
	buf.WriteByte(storedFlate1)
	w := writers.Get().(*flate.Writer)
	defer writers.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DecodeRecord reads a record in a stored form EncodeRecord writes, or
// plain JSON.
func DecodeRecord(data []byte) (Record, error) {
	var r Record
	if len(data) == 0 {
		return r, fmt.Errorf("a certificate's stored record is empty")
	}
	if data[0] == storedFlate1 {
		rd := readers.Get().(io.ReadCloser)
		defer readers.Put(rd)
		if err := rd.(flate.Resetter).Reset(bytes.NewReader(data[1:]), []byte(dict1)); err != nil {
			return r, err
		}
		plain, err := io.ReadAll(rd)
		if err != nil {
			return r, fmt.Errorf("a certificate's stored record cannot be decompressed: %w", err)
		}
		data = plain
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("a certificate's stored record cannot be read: %w", err)
	}
	return r, nil
}
