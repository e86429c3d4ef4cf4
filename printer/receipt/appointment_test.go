package receipt

import (
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/printer/escpos"
	"github.com/sportello/sportello/printer/escpos/escposdec"
)

// TestEncodeAppointment reads the confirmation back as a printer prints
// it: the time and the code large, and a QR that scans to the text the
// office's check-in takes.
func TestEncodeAppointment(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	a := Appointment{Office: "Anagrafe centrale", Address: "Via Larga 12", Counter: "Sportello 2",
		Service: "Rinnovo carta d'identità elettronica", Start: time.Date(2026, 12, 14, 8, 50, 0, 0, time.UTC), Minutes: 20,
		Name: "MARIO ROSSI", Ref: "K7P3-9XQD", QR: "SPORTELLO-APPUNTAMENTO:K7P39XQD", Lang: Italian}
	for _, tt := range []struct {
		model  string
		paper  int
		native bool
	}{{"tm-t20", 80, true}, {"generic", 58, false}} {
		p, err := escpos.Lookup(tt.model, tt.paper)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeAppointment(a, p, rome)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := escposdec.Decode(got)
		if err != nil {
			t.Fatalf("our own output does not decode: %v", err)
		}
		have := map[string]bool{}
		for _, l := range doc.Lines {
			have[l.Text] = true
			if w := len([]rune(l.Text)) * l.Width; w > p.Paper.Columns {
				t.Errorf("line %q is %d columns wide, paper has %d", l.Text, w, p.Paper.Columns)
			}
		}
		for _, w := range []string{"CONFERMA DI APPUNTAMENTO", "Anagrafe centrale", "Quando: lunedì 14/12/2026", "09:50",
			"Sportello: 2 (20 min)", "Intestato a: MARIO ROSSI", "Codice di prenotazione", "K7P3-9XQD"} {
			if !have[w] {
				t.Errorf("%s: the confirmation lacks the line %q; it reads:\n%s", tt.model, w, doc.Text())
			}
		}
		if doc.Cuts != 1 || !strings.Contains(doc.Text(), "2016/679") || len(doc.Images) != 1 {
			t.Fatalf("%s: %d cuts, %d images, privacy notice %v", tt.model, doc.Cuts, len(doc.Images), strings.Contains(doc.Text(), "2016/679"))
		}
		if img := doc.Images[0]; tt.native != (img.Kind == "qr") || scanQR(t, img.Img) != a.QR {
			t.Errorf("%s: the QR (%s) does not scan to %q", tt.model, img.Kind, a.QR)
		}
		if l, ok := doc.Find("K7P3-9XQD"); !ok || !l.Bold || l.Width != 2 || l.Height != 2 {
			t.Errorf("the code's line is %+v, want bold, double width and height", l)
		}
		if !strings.Contains(strings.Join(strings.Fields(doc.Text()), " "), "documento d'identità") {
			t.Errorf("the confirmation does not say to bring a document:\n%s", doc.Text())
		}
	}
	a.QR = ""
	p, _ := escpos.Lookup("generic", 58)
	if _, err := EncodeAppointment(a, p, rome); err == nil {
		t.Error("a confirmation without its QR was printed")
	}
}
