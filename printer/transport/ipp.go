package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	goipp "github.com/phin1x/go-ipp"

	"github.com/sportello/sportello/printer"
)

// IPP sends jobs with Print-Job to a CUPS queue or an IPP Everywhere
// printer, and reads status with Get-Printer-Attributes.
type IPP struct {
	printerURI string // ipp://host:port/printers/NAME, as the printer names itself
	httpURL    string // the same resource over HTTP
	adapter    *goipp.HttpAdapter
	User       string
	// Language is the attributes-natural-language of every request, and so
	// the language of the status messages the printer answers in.
	Language string
}

// NewIPP builds an IPP transport that speaks lang (see IPPLanguage); it
// does not connect until used.
func NewIPP(u *url.URL, lang string) (*IPP, error) {
	if u.Host == "" || u.Path == "" {
		return nil, fmt.Errorf("printer %q is not ipp://HOST[:PORT]/PATH", u.String())
	}
	tls := u.Scheme == "ipps" || u.Scheme == "https"
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "631"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("port %q in %s is not a number", port, u)
	}
	scheme := "ipp"
	httpScheme := "http"
	if tls {
		scheme, httpScheme = "ipps", "https"
	}
	hostport := u.Host
	if u.Port() == "" {
		hostport = host + ":" + port
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	return &IPP{
		printerURI: scheme + "://" + hostport + u.Path,
		httpURL:    httpScheme + "://" + hostport + u.Path,
		adapter:    goipp.NewHttpAdapter(host, p, "", "", tls, goipp.WithHttpClient(client)),
		User:       "sportello",
		Language:   IPPLanguage(lang),
	}, nil
}

// IPPLanguage is the natural-language tag sent with every IPP request.
// RFC 8011 (section 5.1.10) makes naturalLanguage values lower case, and
// current CUPS (2.4.2-3+deb12u11 and later) refuses anything else with
// "Bad attributes-natural-language value": go-ipp's own default is
// "en-US", so it is never left to the library. Empty means Italian, the
// language of the certificates.
func IPPLanguage(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if lang == "" {
		return "it"
	}
	return lang
}

// newIPPRequest starts a request with the lower-case natural language
// every IPP operation must carry (go-ipp's encoder adds the charset).
func newIPPRequest(op int16, lang string) *goipp.Request {
	req := goipp.NewRequest(op, 1)
	req.OperationAttributes[goipp.AttributeNaturalLanguage] = IPPLanguage(lang)
	return req
}

// Send submits the job; PDF as application/pdf, anything else (ESC/POS for
// a raw queue) as application/octet-stream so CUPS passes it unfiltered.
func (t *IPP) Send(ctx context.Context, job printer.Job) error {
	format := goipp.MimeTypeOctetStream
	if job.Format == printer.FormatPDF {
		format = "application/pdf"
	}
	req := newIPPRequest(goipp.OperationPrintJob, t.Language)
	req.OperationAttributes[goipp.AttributePrinterURI] = t.printerURI
	req.OperationAttributes[goipp.AttributeRequestingUserName] = t.User
	req.OperationAttributes[goipp.AttributeJobName] = nonEmpty(job.Name, job.ID, "sportello")
	req.OperationAttributes[goipp.AttributeDocumentFormat] = format
	req.File = bytes.NewReader(job.Data)
	req.FileSize = len(job.Data)
	resp, err := t.adapter.SendRequestContext(ctx, t.httpURL, req, nil)
	if err != nil {
		return fmt.Errorf("IPP Print-Job to %s: %w", t.printerURI, describeIPP(err))
	}
	if len(resp.JobAttributes) == 0 || len(resp.JobAttributes[0][goipp.AttributeJobID]) == 0 {
		return fmt.Errorf("IPP printer %s accepted the job but returned no job ID", t.printerURI)
	}
	return nil
}

// Status reads printer-state and printer-state-reasons (RFC 8011 5.4.11-12).
func (t *IPP) Status(ctx context.Context) (printer.Status, error) {
	req := newIPPRequest(goipp.OperationGetPrinterAttributes, t.Language)
	req.OperationAttributes[goipp.AttributePrinterURI] = t.printerURI
	req.OperationAttributes[goipp.AttributeRequestingUserName] = t.User
	req.OperationAttributes[goipp.AttributeRequestedAttributes] = []string{
		goipp.AttributePrinterState, goipp.AttributePrinterStateReasons, goipp.AttributePrinterIsAcceptingJobs,
	}
	resp, err := t.adapter.SendRequestContext(ctx, t.httpURL, req, nil)
	if err != nil {
		return printer.Status{Offline: true}, fmt.Errorf("IPP Get-Printer-Attributes from %s: %w", t.printerURI, describeIPP(err))
	}
	if len(resp.PrinterAttributes) == 0 {
		return printer.Status{}, fmt.Errorf("IPP printer %s returned no attributes", t.printerURI)
	}
	a := resp.PrinterAttributes[0]
	var state int
	if v := a[goipp.AttributePrinterState]; len(v) > 0 {
		state, _ = v[0].Value.(int)
	}
	accepting := true
	if v := a[goipp.AttributePrinterIsAcceptingJobs]; len(v) > 0 {
		if b, ok := v[0].Value.(bool); ok {
			accepting = b
		}
	}
	var reasons []string
	for _, v := range a[goipp.AttributePrinterStateReasons] {
		if s, ok := v.Value.(string); ok {
			reasons = append(reasons, s)
		}
	}
	return IPPStatus(state, accepting, reasons), nil
}

// IPPStatus maps IPP printer-state (3 idle, 4 processing, 5 stopped),
// printer-is-accepting-jobs and printer-state-reasons keywords to a Status.
// "-report" reasons are informational and ignored; "-warning" ones only
// warn (RFC 8011 5.4.12).
func IPPStatus(state int, accepting bool, reasons []string) printer.Status {
	st := printer.Status{Offline: state == 5 || !accepting}
	for _, r := range reasons {
		if strings.HasSuffix(r, "-report") {
			continue
		}
		warning := strings.HasSuffix(r, "-warning")
		base := strings.TrimSuffix(strings.TrimSuffix(r, "-warning"), "-error")
		switch base {
		case "media-empty", "media-needed":
			if warning {
				st.PaperNearEnd = true
			} else {
				st.PaperOut = true
			}
		case "media-low":
			st.PaperNearEnd = true
		case "cover-open", "door-open", "interlock-open":
			st.CoverOpen = !warning
		case "offline", "shutdown":
			st.Offline = st.Offline || !warning
		case "media-jam":
			st.Recoverable = !warning
		}
	}
	return st
}

func (t *IPP) Close() error { return nil }

func describeIPP(err error) error {
	var he goipp.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case 404:
			return fmt.Errorf("no such printer (HTTP 404)")
		case 401, 403:
			return fmt.Errorf("the print server refused access (HTTP %d)", he.Code)
		}
		return fmt.Errorf("HTTP status %d", he.Code)
	}
	return err
}

func nonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Queue is a CUPS print queue.
type Queue struct {
	Name, URI, Info, MakeModel, DeviceURI string
	State                                 printer.Status
}

// ListCUPS lists the queues of the CUPS server at host:port with
// CUPS-Get-Printers, asking in lang (see IPPLanguage). The request is built
// here rather than by go-ipp's CUPS client, which sends "en-US".
func ListCUPS(ctx context.Context, host string, port int, lang string) ([]Queue, error) {
	adapter := goipp.NewHttpAdapter(host, port, "", "", false, goipp.WithHttpClient(&http.Client{Timeout: time.Minute}))
	req := newIPPRequest(goipp.OperationCupsGetPrinters, lang)
	req.OperationAttributes[goipp.AttributeRequestedAttributes] = []string{
		goipp.AttributePrinterName, goipp.AttributePrinterInfo, goipp.AttributePrinterMakeAndModel,
		goipp.AttributeDeviceURI, goipp.AttributePrinterState, goipp.AttributePrinterStateReasons, goipp.AttributePrinterIsAcceptingJobs,
	}
	resp, err := adapter.SendRequestContext(ctx, fmt.Sprintf("http://%s/", net.JoinHostPort(host, strconv.Itoa(port))), req, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot list CUPS queues at %s:%d: %w", host, port, describeIPP(err))
	}
	var qs []Queue
	for _, a := range resp.PrinterAttributes {
		name, _ := firstValue(a, goipp.AttributePrinterName).(string)
		if name == "" {
			continue // CUPS names every queue; an entry without one is not a queue to offer
		}
		str := func(k string) string {
			if v := a[k]; len(v) > 0 {
				s, _ := v[0].Value.(string)
				return s
			}
			return ""
		}
		state, _ := firstValue(a, goipp.AttributePrinterState).(int)
		accepting, ok := firstValue(a, goipp.AttributePrinterIsAcceptingJobs).(bool)
		if !ok {
			accepting = true
		}
		var reasons []string
		for _, v := range a[goipp.AttributePrinterStateReasons] {
			if s, ok := v.Value.(string); ok {
				reasons = append(reasons, s)
			}
		}
		qs = append(qs, Queue{
			Name: name, URI: fmt.Sprintf("ipp://%s/printers/%s", net.JoinHostPort(host, strconv.Itoa(port)), name),
			Info: str(goipp.AttributePrinterInfo), MakeModel: str(goipp.AttributePrinterMakeAndModel),
			DeviceURI: str(goipp.AttributeDeviceURI), State: IPPStatus(state, accepting, reasons),
		})
	}
	sortQueues(qs)
	return qs, nil
}

func firstValue(a goipp.Attributes, k string) any {
	if v := a[k]; len(v) > 0 {
		return v[0].Value
	}
	return nil
}

func sortQueues(qs []Queue) {
	slices.SortFunc(qs, func(a, b Queue) int { return strings.Compare(a.Name, b.Name) })
}
