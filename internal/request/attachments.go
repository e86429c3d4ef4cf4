package request

import (
	"bytes"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
)

// Limits of the attachments of one request: a scanned document of a few
// pages is well under 5 MB, and a kiosk's body must stay small enough to
// sign and send at once.
const (
	MaxAttachmentBytes = 5 << 20
	MaxAttachments     = 5
	maxNameLen         = 120
)

// Media types attachments may have.
const (
	PDF  = "application/pdf"
	JPEG = "image/jpeg"
	PNG  = "image/png"
)

// Sniff is the media type of data from its first bytes (the files' magic
// numbers: "%PDF-", JPEG's SOI marker FF D8 FF, PNG's 8-byte signature),
// or "" when it is none of the three. The name or the type a client
// claims is not trusted.
func Sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return PDF
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	}
	return ""
}

// File is an attachment as filed: its name and bytes.
type File struct {
	Name string
	Data []byte
}

// CheckAttachments checks the files of a request of kind k and returns
// their descriptions (type sniffed, size, SHA-256).
func CheckAttachments(k Kind, files []File) ([]Attachment, error) {
	if len(files) > MaxAttachments {
		return nil, refuse(ReasonAttachmentsMany, "Si possono allegare al massimo %d documenti.", MaxAttachments)
	}
	if len(files) < MinAttachments(k) {
		return nil, refuse(ReasonAttachmentRequired, "La pratica %q richiede un documento allegato.", k.Title())
	}
	out := make([]Attachment, 0, len(files))
	for i, f := range files {
		name := strings.TrimSpace(f.Name)
		if name == "" {
			name = "allegato-" + string(rune('1'+i))
		}
		if len([]rune(name)) > maxNameLen || strings.ContainsAny(name, "/\\\x00\r\n") {
			return nil, refuse(ReasonFieldInvalid, "Il nome dell'allegato %q non è valido.", name)
		}
		if len(f.Data) > MaxAttachmentBytes {
			return nil, refuse(ReasonAttachmentTooLarge, "L'allegato %s supera %d MB.", name, MaxAttachmentBytes>>20)
		}
		mt := Sniff(f.Data)
		if mt == "" {
			return nil, refuse(ReasonAttachmentType, "L'allegato %s non è un PDF né un'immagine JPEG o PNG.", name)
		}
		out = append(out, Attachment{Name: name, MediaType: mt, Size: int64(len(f.Data)), SHA256: SumOf(f.Data)})
	}
	return out, nil
}

// Days of a residence change (DL 5/2012 art. 5 c. 1 and 3, L. 35/2012):
// the office registers the declaration within two working days, and a
// declaration not refused within 45 days of it is accepted (silenzio
// assenso, art. 20 L. 241/1990).
const (
	RegisterWorkingDays = 2
	SilenceAssentDays   = 45
)

// Deadlines of a residence change (or a change of address) filed at
// filed: the end of the second working day after it, and the end of the
// 45th day after it, both in Rome.
func Deadlines(filed time.Time, rome *time.Location) (registerBy, silence time.Time) {
	day := filed.In(rome)
	d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, rome)
	for n := 0; n < RegisterWorkingDays; {
		d = d.AddDate(0, 0, 1)
		if WorkingDay(registry.DateOf(d)) {
			n++
		}
	}
	registerBy = d.AddDate(0, 0, 1).Add(-time.Nanosecond)
	s := time.Date(day.Year(), day.Month(), day.Day()+SilenceAssentDays+1, 0, 0, 0, 0, rome)
	return registerBy, s.Add(-time.Nanosecond)
}

// WorkingDay reports whether d is a working day in Italy: not a Saturday
// or Sunday and not a national holiday (operators.Calendar's, the one
// calendar of them, with 4 October from 2026). A comune's patron saint's
// day is not counted: it is a city's, not the law's.
func WorkingDay(d registry.Date) bool {
	if wd := d.Time().Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, holiday := (operators.Calendar{}).Holiday(d)
	return !holiday
}
