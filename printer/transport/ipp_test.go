package transport

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"testing"

	goipp "github.com/phin1x/go-ipp"

	"github.com/sportello/sportello/printer"
)

// strictIPP is an IPP server as strict as current CUPS about
// attributes-natural-language: a tag that is not lower case (RFC 8011
// 5.1.10) is refused with client-error-bad-request, as CUPS
// 2.4.2-3+deb12u11 does with "Bad attributes-natural-language value".
type strictIPP struct {
	mu    sync.Mutex
	langs map[int16]string // operation → the language it came with
}

var naturalLanguage = regexp.MustCompile(`^[a-z]{2,8}(-[a-z0-9]{1,8})*$`)

func (s *strictIPP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req, err := goipp.NewRequestDecoder(bytes.NewReader(body)).Decode(io.Discard)
	if err != nil {
		http.Error(w, "not IPP", http.StatusBadRequest)
		return
	}
	lang, _ := req.OperationAttributes[goipp.AttributeNaturalLanguage].(string)
	s.mu.Lock()
	s.langs[req.Operation] = lang
	s.mu.Unlock()
	resp := goipp.NewResponse(goipp.StatusOk, req.RequestId)
	resp.OperationAttributes[goipp.AttributeCharset] = []goipp.Attribute{{Tag: goipp.TagCharset, Name: goipp.AttributeCharset, Value: "utf-8"}}
	resp.OperationAttributes[goipp.AttributeNaturalLanguage] = []goipp.Attribute{{Tag: goipp.TagLanguage, Name: goipp.AttributeNaturalLanguage, Value: "it"}}
	if !naturalLanguage.MatchString(lang) {
		resp.StatusCode = goipp.StatusErrorBadRequest
		resp.OperationAttributes["status-message"] = []goipp.Attribute{{Tag: goipp.TagText, Name: "status-message", Value: `Bad "attributes-natural-language" value '` + lang + `'.`}}
	} else {
		printerAttrs := goipp.Attributes{
			goipp.AttributePrinterName:            {{Tag: goipp.TagName, Name: goipp.AttributePrinterName, Value: "Ufficio"}},
			goipp.AttributePrinterState:           {{Tag: goipp.TagEnum, Name: goipp.AttributePrinterState, Value: 3}},
			goipp.AttributePrinterIsAcceptingJobs: {{Tag: goipp.TagBoolean, Name: goipp.AttributePrinterIsAcceptingJobs, Value: true}},
			goipp.AttributePrinterStateReasons:    {{Tag: goipp.TagKeyword, Name: goipp.AttributePrinterStateReasons, Value: "none"}},
		}
		switch req.Operation {
		case goipp.OperationPrintJob:
			resp.JobAttributes = []goipp.Attributes{{goipp.AttributeJobID: {{Tag: goipp.TagInteger, Name: goipp.AttributeJobID, Value: 7}}}}
		default:
			resp.PrinterAttributes = []goipp.Attributes{printerAttrs}
		}
	}
	b, err := resp.Encode()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", goipp.ContentTypeIPP)
	w.Write(b)
}

// TestIPPLanguageLowerCase sends every IPP operation the kiosk uses to a
// server that refuses upper-case language tags: each must carry the
// kiosk's language in lower case.
func TestIPPLanguageLowerCase(t *testing.T) {
	for _, lang := range []string{"it", "en", "EN", ""} {
		srv := &strictIPP{langs: map[int16]string{}}
		ts := httptest.NewServer(srv)
		u, _ := url.Parse(ts.URL)
		port, _ := strconv.Atoi(u.Port())
		ctx := context.Background()

		tr, err := Open(ctx, "ipp://"+u.Host+"/printers/Ufficio", Options{Language: lang})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := tr.Status(ctx); err != nil || st.Err() != nil {
			t.Errorf("lang %q: Status = %+v, %v", lang, st, err)
		}
		if err := tr.Send(ctx, printer.Job{Name: "certificato", Format: printer.FormatPDF, Data: []byte("%PDF-1.7\n")}); err != nil {
			t.Errorf("lang %q: Send: %v", lang, err)
		}
		qs, err := ListCUPS(ctx, u.Hostname(), port, lang)
		if err != nil || len(qs) != 1 || qs[0].Name != "Ufficio" {
			t.Errorf("lang %q: ListCUPS = %+v, %v", lang, qs, err)
		}
		ts.Close()

		want := IPPLanguage(lang)
		if want != "it" && want != "en" {
			t.Fatalf("IPPLanguage(%q) = %q, want it or en", lang, want)
		}
		for _, op := range []int16{goipp.OperationGetPrinterAttributes, goipp.OperationPrintJob, goipp.OperationCupsGetPrinters} {
			if got := srv.langs[op]; got != want {
				t.Errorf("lang %q: operation %#x sent attributes-natural-language %q, want %q", lang, op, got, want)
			}
		}
	}
}
