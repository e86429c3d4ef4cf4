package request

import (
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/registry"
)

func reason(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Reason
	}
	return ""
}

func TestAttachments(t *testing.T) {
	pdf := []byte("%PDF-1.7\n...")
	png := []byte("\x89PNG\r\n\x1a\n....")
	jpg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0}
	got, err := CheckAttachments(Correction, []File{{Name: "atto.pdf", Data: pdf}, {Name: "foto.png", Data: png}, {Name: "x.jpg", Data: jpg}})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].MediaType != PDF || got[1].MediaType != PNG || got[2].MediaType != JPEG || got[0].Size != int64(len(pdf)) || got[0].SHA256 != SumOf(pdf) {
		t.Errorf("described as %+v", got)
	}
	for name, c := range map[string]struct {
		kind  Kind
		files []File
		want  string
	}{
		"an executable named .pdf": {AddressChange, []File{{Name: "a.pdf", Data: []byte("MZ\x90\x00")}}, ReasonAttachmentType},
		"html":                     {AddressChange, []File{{Name: "a.png", Data: []byte("<html>")}}, ReasonAttachmentType},
		"too large":                {AddressChange, []File{{Name: "a.pdf", Data: append([]byte("%PDF-"), make([]byte, MaxAttachmentBytes)...)}}, ReasonAttachmentTooLarge},
		"none for a DAT":           {DAT, nil, ReasonAttachmentRequired},
		"too many":                 {AddressChange, []File{{Data: pdf}, {Data: pdf}, {Data: pdf}, {Data: pdf}, {Data: pdf}, {Data: pdf}}, ReasonAttachmentsMany},
		"a path for a name":        {AddressChange, []File{{Name: "../../etc/passwd", Data: pdf}}, ReasonFieldInvalid},
	} {
		_, err := CheckAttachments(c.kind, c.files)
		if reason(err) != c.want {
			t.Errorf("%s: %v (reason %q), want %s", name, err, reason(err), c.want)
		}
	}
	if _, err := CheckAttachments(AddressChange, []File{{Name: "a.pdf", Data: append([]byte("%PDF-"), make([]byte, MaxAttachmentBytes)...)}}); fault.KindOf(err) != fault.TooLarge {
		t.Errorf("too large is %v, want TooLarge", fault.KindOf(err))
	}
}

func TestCanonicalHash(t *testing.T) {
	f := Filing{Kind: AddressChange, RequesterCF: " rssmra50b17a558w", Channel: "self_service",
		Form: Form{Address: &AddressForm{Persons: []string{"RSSMRA50B17A558W"}, NewAddress: NewAddress{Street: "Via Padova", Number: "12"}, Statement: true}}}
	want := `{"kind":"cambio_indirizzo","requester_cf":"RSSMRA50B17A558W","channel":"self_service","form":{"address_change":{"persons":["RSSMRA50B17A558W"],"new_address":{"street":"Via Padova","number":"12"},"statement":true}},"attachments":[]}`
	if got := string(f.Canonical()); got != want {
		t.Errorf("canonical:\n%s\nwant\n%s", got, want)
	}
	h := f.Hash()
	f.Attachments = []Attachment{{Name: "a.pdf", MediaType: PDF, Size: 3, SHA256: SumOf([]byte("abc"))}}
	if f.Hash() == h {
		t.Error("an attachment does not change the hash")
	}
	f.Attachments[0].SHA256 = SumOf([]byte("abd"))
	h2 := f.Hash()
	f.Attachments[0].SHA256 = SumOf([]byte("abc"))
	if f.Hash() == h2 {
		t.Error("the attachment's content does not change the hash")
	}
}

func TestDeadlines(t *testing.T) {
	rome, _ := time.LoadLocation("Europe/Rome")
	for _, c := range []struct {
		filed             string
		register, silence string
	}{
		// Thursday: Friday and Monday.
		{"2026-12-03T10:00:00+01:00", "2026-12-07", "2027-01-17"},
		// Friday 4 December: Monday 7, and Tuesday 8 December is a holiday: Wednesday 9.
		{"2026-12-04T10:00:00+01:00", "2026-12-09", "2027-01-18"},
		// Wednesday 23 December: Thursday 24, then 25, 26, 27 are not working days: Monday 28.
		{"2026-12-23T18:00:00+01:00", "2026-12-28", "2027-02-06"},
		// Thursday 2 April 2026: Friday 3, Easter Monday 6 April is not: Tuesday 7.
		{"2026-04-02T09:00:00+02:00", "2026-04-07", "2026-05-17"},
	} {
		at, _ := time.Parse(time.RFC3339, c.filed)
		reg, sil := Deadlines(at, rome)
		if got := reg.In(rome).Format("2006-01-02"); got != c.register {
			t.Errorf("filed %s: register by %s, want %s", c.filed, got, c.register)
		}
		if got := sil.In(rome).Format("2006-01-02"); got != c.silence {
			t.Errorf("filed %s: silence-assent %s, want %s", c.filed, got, c.silence)
		}
		if h, m := reg.In(rome).Hour(), reg.In(rome).Minute(); h != 23 || m != 59 {
			t.Errorf("register-by ends at %02d:%02d, want the end of the day", h, m)
		}
	}
	// 4 October is a national holiday again from 2026 (L. 151/2025):
	// Monday 4 October 2027 is not a working day; Tuesday 4 October 2022
	// was.
	if WorkingDay(registry.Date{Year: 2027, Month: 10, Day: 4}) || !WorkingDay(registry.Date{Year: 2022, Month: 10, Day: 4}) {
		t.Error("4 October is a holiday from 2026 only")
	}
	if WorkingDay(registry.Date{Year: 2026, Month: 6, Day: 2}) || !WorkingDay(registry.Date{Year: 2026, Month: 6, Day: 3}) {
		t.Error("2 June is a holiday, 3 June 2026 a working Wednesday")
	}
}

func TestFormMismatch(t *testing.T) {
	env := Env{Today: registry.Date{Year: 2026, Month: 12, Day: 5}}
	for name, c := range map[string]struct {
		kind Kind
		form Form
		want string
	}{
		"unknown kind":  {"passaporto", Form{}, ReasonKindUnknown},
		"no section":    {DAT, Form{}, ReasonFormMismatch},
		"wrong section": {DAT, Form{Address: &AddressForm{}}, ReasonFormMismatch},
		"two sections":  {DAT, Form{DAT: &DATForm{}, Address: &AddressForm{}}, ReasonFormMismatch},
		"no origin":     {ResidenceChange, Form{Residence: &ResidenceForm{}}, ReasonFieldMissing},
	} {
		_, err := CheckForm(c.kind, c.form, env)
		if reason(err) != c.want {
			t.Errorf("%s: %v, want %s", name, err, c.want)
		}
		if err != nil && !strings.ContainsAny(err.Error(), "àèéìòù") && !strings.Contains(err.Error(), "modulo") && !strings.Contains(err.Error(), "Indichi") && !strings.Contains(err.Error(), "pratica") {
			t.Errorf("%s: %q is not an Italian sentence", name, err)
		}
	}
}

func TestMoverAgreesWithCF(t *testing.T) {
	// RSSMRA50B17A558W: born 17 February 1950, male.
	ok := Mover{CF: "RSSMRA50B17A558W", Surname: "ROSSI", GivenNames: "MARIO", Sex: "M", BirthDate: "1950-02-17", BirthPlace: "A558", Citizenship: "Z000"}
	if err := checkMover(ok); err != nil {
		t.Fatal(err)
	}
	bad := ok
	bad.BirthDate = "1950-02-18"
	if reason(checkMover(bad)) != ReasonContradictory {
		t.Errorf("another birth day: %v", checkMover(bad))
	}
	bad = ok
	bad.Sex = "F"
	if reason(checkMover(bad)) != ReasonContradictory {
		t.Errorf("another sex: %v", checkMover(bad))
	}
}
