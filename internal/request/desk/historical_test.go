package desk_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/request/desk"
	"github.com/sportello/sportello/internal/store"
)

// TestHistoricalAcceptanceDelivers accepts historical certificate
// requests: one the registry can compose is issued through the issuance
// path (in the register, its record naming the subject and the date) and
// linked to the request; one it cannot (a date before its records) is
// refused with the certificate's reason code and stays open, and is then
// accepted with the office's prepared PDF, which the request keeps as its
// outcome; a document that is not a PDF is refused.
func TestHistoricalAcceptanceDelivers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := desk.Staff{User: "mrossi"}
	p := f.adult()
	file := func(t *testing.T, form *request.HistoricalForm) request.Request {
		t.Helper()
		fl := f.counter(p.CF)
		fl.Kind, fl.Form = request.Historical, request.Form{Historical: form}
		rec, _, err := f.desk.File(ctx, fl)
		if err != nil {
			t.Fatalf("file: %v", err)
		}
		return rec
	}

	t.Run("composed from the registry", func(t *testing.T) {
		rec := file(t, &request.HistoricalForm{SubjectCF: p.CF, What: "residenza", Purpose: "pratica di successione"})
		got, err := f.desk.AcceptWith(ctx, rec.ID, rec.Version, staff, "istruttoria conclusa", desk.Delivery{})
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		if got.Status != request.Accepted || got.Outcome == nil || got.Outcome.CertificateID == "" || got.Outcome.Document != nil {
			t.Fatalf("accepted as %+v, outcome %+v", got.Status, got.Outcome)
		}
		var cert certificate.Record
		err = f.iss.Service.Stores.View(ctx, func(tx store.Tx) (err error) {
			cert, err = tx.Certificates().Get(got.Outcome.CertificateID)
			return err
		})
		if err != nil {
			t.Fatalf("the issued certificate is not in the register: %v", err)
		}
		if cert.Protocol != got.Outcome.CertificateProtocol || cert.SubjectCF != p.CF || len(cert.Types) != 1 || cert.Types[0] != certificate.ResidenzaStorica {
			t.Errorf("certificate %+v for outcome %+v", cert, got.Outcome)
		}
		if s := got.Summary(); s.Outcome == nil || s.Outcome.CertificateID != cert.ID {
			t.Errorf("the citizen's list does not show the certificate: %+v", s)
		}
		if _, err := f.desk.AcceptWith(ctx, rec.ID, 0, staff, "di nuovo", desk.Delivery{}); err == nil {
			t.Error("an accepted request was accepted again")
		}
	})

	t.Run("prepared by the office", func(t *testing.T) {
		rec := file(t, &request.HistoricalForm{SubjectCF: p.CF, What: "stato_di_famiglia", Date: p.BirthDate.String(), Purpose: "pensione"})
		_, err := f.desk.AcceptWith(ctx, rec.ID, rec.Version, staff, "", desk.Delivery{})
		if r := reason(err); r != certificate.ReasonDateBeforeRecords && r != certificate.ReasonNoFamilyOnDate {
			t.Fatalf("a date the registry holds no family for: %v (reason %q)", err, r)
		}
		png := &request.File{Name: "scan.png", Data: []byte("\x89PNG\r\n\x1a\nimmagine")}
		if _, err := f.desk.AcceptWith(ctx, rec.ID, rec.Version, staff, "", desk.Delivery{Document: png}); reason(err) != request.ReasonAttachmentType {
			t.Fatalf("an image as the prepared certificate: %v", err)
		}
		if still, _ := f.desk.Get(ctx, rec.ID); still.Status != request.Filed || still.Outcome != nil {
			t.Fatalf("a refused acceptance left %+v", still)
		}
		doc := []byte("%PDF-1.7 certificato storico dall'archivio cartaceo")
		got, err := f.desk.AcceptWith(ctx, rec.ID, rec.Version, staff, "dall'archivio", desk.Delivery{Document: &request.File{Name: "storico.pdf", Data: doc}})
		if err != nil {
			t.Fatalf("accept with the prepared PDF: %v", err)
		}
		if got.Outcome == nil || got.Outcome.Document == nil || got.Outcome.CertificateID != "" || got.Outcome.Document.SHA256 != request.SumOf(doc) {
			t.Fatalf("outcome %+v", got.Outcome)
		}
		_, data, err := f.desk.Attachment(ctx, rec.ID, got.Outcome.Document.SHA256)
		if err != nil || string(data) != string(doc) {
			t.Errorf("the prepared document as kept: %q, %v", data, err)
		}
	})
}
