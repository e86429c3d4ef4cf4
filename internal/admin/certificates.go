package admin

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// Certificate work for the registry's clerks: find an issued certificate
// by id, protocol number, codice fiscale (of the person it is about or of
// who asked for it) or day; see it; revoke it with a reason; browse and
// export the certificates' protocol register by day.
//
// A certificate names a person, so, as on the persons page, every page
// that shows whose certificate it is needs a purpose and is written to the
// access log (audit) before it is shown: the view, the PDF, a search by
// codice fiscale and the day's register (whose correspondents are
// requesters' codes). A day's list of certificates shows no one's name or
// code, so it needs neither.

func (c *Console) certificateRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/certificates", c.require(staff.ReadCertificates, c.certificateSearch))
	mux.Handle("GET /admin/certificates/{id}", c.require(staff.ReadCertificates, c.certificatePage))
	mux.Handle("GET /admin/certificates/{id}/pdf", c.require(staff.ReadCertificates, c.certificatePDF))
	mux.Handle("POST /admin/certificates/{id}/revoke", c.require(staff.RevokeCertificates, c.certificateRevoke))
	mux.Handle("GET /admin/register", c.require(staff.ReadCertificates, c.registerPage))
	mux.Handle("GET /admin/register.csv", c.require(staff.ReadCertificates, c.registerCSV))
}

// certListLimit bounds one search's results by codice fiscale.
const certListLimit = 200

type certSearchData struct {
	Q, Purpose string
	Kind       string // "cf", "day" when a list is shown
	Day        string // the day listed, YYYY-MM-DD
	Prev, Next string // the days around Day
	Records    []certRow
	Limited    bool
	CF         *cfExplanation // a mistyped codice fiscale, explained
}

type certRow struct {
	certificate.Record
	Shop string
}

// purposeOK is the persons page's rule: a purpose of at least five
// characters.
func purposeOK(p string) bool { return len(strings.TrimSpace(p)) >= 5 }

func (c *Console) certificateSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := certSearchData{Q: strings.TrimSpace(q.Get("q")), Purpose: strings.TrimSpace(q.Get("purpose"))}
	v := c.newView(r, "nav.certificates")
	v.Data = &d
	if d.Q == "" {
		if day := q.Get("day"); day != "" {
			d.Q = day
		} else {
			c.render(w, r, http.StatusOK, "certificates", v)
			return
		}
	}
	refuse := func(err error) { c.renderRefused(w, r, "certificates", v, err) }
	// A day: the list shows no personal data.
	if day, ok := parseDayInput(d.Q); ok {
		recs, err := c.Certs.ByDay(day)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.Kind, d.Day = "day", day.String()
		d.Prev, d.Next = protocol.DayOf(day.Start().Add(-12*time.Hour)).String(), protocol.DayOf(day.End().Add(12*time.Hour)).String()
		d.Records = c.rows(recs)
		c.render(w, r, http.StatusOK, "certificates", v)
		return
	}
	// A protocol number or an id: open the certificate (its page asks for
	// the purpose if none was given).
	if strings.Contains(d.Q, "/") {
		n, err := parseProtocolInput(d.Q)
		if err != nil {
			refuse(refused(fault.Invalid, "bad_protocol", d.Q))
			return
		}
		rec, err := c.Certs.ByProtocol(n)
		if errors.Is(err, certificate.ErrNotFound) {
			refuse(refused(fault.NotFound, "certificate_not_found", n.String()))
			return
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		http.Redirect(w, r, certURL(rec.ID, d.Purpose), http.StatusSeeOther)
		return
	}
	code := strings.ToUpper(strings.ReplaceAll(d.Q, " ", ""))
	// Ids are lower-case base32 (certificate.NewID); a clerk reading one
	// off the paper may type it either way.
	if rec, err := c.Certs.Get(strings.ToLower(code)); err == nil {
		http.Redirect(w, r, certURL(rec.ID, d.Purpose), http.StatusSeeOther)
		return
	} else if pe := (*certificate.PurgedError)(nil); errors.As(err, &pe) {
		refuse(refused(fault.Gone, "certificate_purged", pe.ID, pe.Issued.Italian(), pe.At.In(operators.Rome).Format("02/01/2006")))
		return
	} else if !errors.Is(err, certificate.ErrNotFound) {
		c.fail(w, r, err)
		return
	}
	// Then it must be a codice fiscale.
	if len(code) != 16 {
		refuse(refused(fault.Invalid, "bad_query", d.Q))
		return
	}
	if ex := explainCF(code, v.Lang); ex != nil {
		d.CF = ex
		refuse(refused(fault.Invalid, "invalid_cf"))
		return
	}
	if !purposeOK(d.Purpose) {
		refuse(refused(fault.Invalid, "purpose_required"))
		return
	}
	recs, err := c.Certs.ByCF(code, certListLimit)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// The list names the person each certificate is about: someone else
	// than code when code asked for it, whose read is recorded too.
	actor := audit.Actor{Kind: audit.Staff, ID: userOf(r)}
	es := []audit.Entry{{Time: c.now(), Actor: actor, Purpose: d.Purpose, Subject: code, Data: "elenco dei certificati rilasciati", Channel: "admin", Request: r.URL.Path}}
	seen := map[string]bool{code: true}
	for _, rec := range recs {
		if cf := strings.ToUpper(rec.SubjectCF); cf != "" && !seen[cf] {
			seen[cf] = true
			es = append(es, audit.Entry{Time: c.now(), Actor: actor, Purpose: d.Purpose, Subject: cf,
				Data: "nome, nell'elenco dei certificati chiesti da " + code, Channel: "admin", Request: r.URL.Path})
		}
	}
	if err := c.reads().RecordAll(r.Context(), es); err != nil {
		c.fail(w, r, err)
		return
	}
	d.Kind, d.Q, d.Records, d.Limited = "cf", code, c.rows(recs), len(recs) == certListLimit
	c.render(w, r, http.StatusOK, "certificates", v)
}

func certURL(id, purpose string) string {
	u := "/admin/certificates/" + url.PathEscape(id)
	if purpose != "" {
		u += "?purpose=" + url.QueryEscape(purpose)
	}
	return u
}

// rows adds the shop's name to each record.
func (c *Console) rows(recs []certificate.Record) []certRow {
	names := map[string]string{}
	out := make([]certRow, len(recs))
	for i, rec := range recs {
		out[i] = certRow{Record: rec}
		if rec.OperatorID == "" {
			continue
		}
		n, ok := names[rec.OperatorID]
		if !ok {
			n = rec.OperatorID
			if o, err := c.Operators.Get(rec.OperatorID); err == nil {
				n = o.DisplayName()
			}
			names[rec.OperatorID] = n
		}
		out[i].Shop = n
	}
	return out
}

// parseDayInput reads a day as YYYY-MM-DD or DD/MM/YYYY.
func parseDayInput(s string) (protocol.Day, bool) {
	if d, err := protocol.ParseDay(s); err == nil {
		return d, true
	}
	if t, err := time.ParseInLocation("2/1/2006", s, operators.Rome); err == nil {
		return protocol.DayOf(t), true
	}
	return protocol.Day{}, false
}

// parseProtocolInput reads a protocol number as a clerk types it: as
// printed, with the register's codes ("c_f205.A1B2C3D.CERT.2026/0000123",
// protocol.ParseNumber, which finds only that register's certificate), or
// the year and progressive alone, padded or not ("2026/0000123",
// "2026/123", "c_f205/…/2026/0000123"): the last two parts are the year
// and the progressive.
func parseProtocolInput(s string) (protocol.Number, error) {
	s = strings.TrimSpace(s)
	if n, err := protocol.ParseNumber(s); err == nil {
		return n, nil
	}
	parts := strings.Split(s[strings.LastIndex(s, ".")+1:], "/")
	if len(parts) < 2 {
		return protocol.Number{}, fmt.Errorf("%q is not a protocol number", s)
	}
	y, q := parts[len(parts)-2], parts[len(parts)-1]
	year, err1 := strconv.Atoi(y)
	seq, err2 := strconv.ParseUint(q, 10, 64)
	if err1 != nil || err2 != nil || len(y) != 4 || seq == 0 {
		return protocol.Number{}, fmt.Errorf("%q is not a protocol number", s)
	}
	return protocol.Number{Year: year, Seq: seq}, nil
}

type certPageData struct {
	Rec        certificate.Record
	Purpose    string
	Shop       string
	ShopID     string
	PDFKept    bool
	Confirm    bool   // the revocation's confirmation step
	Reason     string // the reason typed, on the confirmation step
	Requester  string // the requester kind, in words
	ChannelKey string
}

// certificatePage shows one certificate. Without a purpose it asks for
// one; with it, the read is audited (subject, and requester when another
// person) before anything is shown.
func (c *Console) certificatePage(w http.ResponseWriter, r *http.Request) {
	purpose := strings.TrimSpace(r.URL.Query().Get("purpose"))
	d, ok := c.loadCertificate(w, r, purpose)
	if !ok {
		return
	}
	v := c.newView(r, "cert.title")
	v.Data = d
	if d.Purpose == "" {
		c.render(w, r, http.StatusOK, "certificate", v)
		return
	}
	if err := c.auditCertificate(r, &d.Rec, purpose, "certificato "+d.Rec.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "certificate", v)
}

// loadCertificate reads the record of the {id} in the path; on failure
// it has answered. A purpose too short is dropped, so the page asks again.
func (c *Console) loadCertificate(w http.ResponseWriter, r *http.Request, purpose string) (*certPageData, bool) {
	id := r.PathValue("id")
	rec, err := c.Certs.Get(id)
	if err != nil {
		var pe *certificate.PurgedError
		switch {
		case errors.As(err, &pe):
			c.fail(w, r, refused(fault.Gone, "certificate_purged", pe.ID, pe.Issued.Italian(), pe.At.In(operators.Rome).Format("02/01/2006")))
		case errors.Is(err, certificate.ErrNotFound):
			c.fail(w, r, refused(fault.NotFound, "certificate_not_found", id))
		default:
			c.fail(w, r, err)
		}
		return nil, false
	}
	d := &certPageData{Rec: rec, ShopID: rec.OperatorID, Shop: rec.OperatorID, PDFKept: rec.PDFDeleted.IsZero(),
		ChannelKey: "channel." + string(rec.Channel), Requester: fmt.Sprintf("cert.reqkind.%d", int(rec.Requester))}
	if purposeOK(purpose) {
		d.Purpose = purpose
	}
	if rec.OperatorID != "" {
		if o, err := c.Operators.Get(rec.OperatorID); err == nil {
			d.Shop = o.DisplayName()
		}
	}
	return d, true
}

// auditCertificate records a staff read of rec: one entry for its
// subject, and one for its requester when that is another person, whose
// code the page shows too.
func (c *Console) auditCertificate(r *http.Request, rec *certificate.Record, purpose, data string) error {
	es := []audit.Entry{}
	for _, cf := range []string{rec.SubjectCF, rec.RequesterCF} {
		if cf == "" || slices.ContainsFunc(es, func(e audit.Entry) bool { return e.Subject == cf }) {
			continue
		}
		es = append(es, audit.Entry{Time: c.now(), Actor: audit.Actor{Kind: audit.Staff, ID: userOf(r)},
			Purpose: purpose, Subject: cf, Data: data, Channel: "admin", Request: rec.ID})
	}
	return c.reads().RecordAll(r.Context(), es)
}

// certificatePDF serves the issued PDF to staff while it is kept: 410
// once retention deleted it, as the kiosk API answers.
func (c *Console) certificatePDF(w http.ResponseWriter, r *http.Request) {
	purpose := strings.TrimSpace(r.URL.Query().Get("purpose"))
	d, ok := c.loadCertificate(w, r, purpose)
	if !ok {
		return
	}
	if d.Purpose == "" {
		c.fail(w, r, refused(fault.Invalid, "purpose_required"))
		return
	}
	pdf, err := c.Certs.PDF(d.Rec.ID)
	switch {
	case errors.Is(err, certificate.ErrPDFExpired):
		c.fail(w, r, refused(fault.Gone, "pdf_expired"))
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	if err := c.auditCertificate(r, &d.Rec, d.Purpose, "PDF del certificato "+d.Rec.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", "certificato-"+d.Rec.ID+".pdf"))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(pdf)
}

// maxRevokeReason bounds the reason, printed on the verification page.
const maxRevokeReason = 500

// certificateRevoke revokes in two steps: the first POST shows what will
// be revoked and the reason for a confirmation, the second (confirm=1)
// revokes. Both carry the session's CSRF token (require). The revocation
// is written to the access log with who revoked and why.
func (c *Console) certificateRevoke(w http.ResponseWriter, r *http.Request) {
	purpose := strings.TrimSpace(r.PostFormValue("purpose"))
	d, ok := c.loadCertificate(w, r, purpose)
	if !ok {
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	// The record names who authorised the revocation (art. 54 DPR
	// 445/2000): the signed-in staff member, by account and name.
	who := "staff:" + userOf(r)
	if a, _ := authOf(r); a != nil && a.Name != "" {
		who += " (" + a.Name + ")"
	}
	v := c.newView(r, "cert.title")
	v.Data = d
	d.Reason = reason
	// show renders the certificate's page, which with a purpose names
	// whose certificate it is: like certificatePage it writes the read to
	// the access log first.
	show := func(refusal error) {
		if d.Purpose != "" {
			if err := c.auditCertificate(r, &d.Rec, d.Purpose, "certificato "+d.Rec.ID+" (revoca)"); err != nil {
				c.fail(w, r, err)
				return
			}
		}
		c.renderOr(w, r, "certificate", v, refusal)
	}
	switch {
	case d.Rec.Status == certificate.Revoked:
		show(refused(fault.Conflict, "already_revoked", d.Rec.RevokedAt.In(operators.Rome).Format("02/01/2006 15:04")))
		return
	case len([]rune(reason)) < 5 || len(reason) > maxRevokeReason:
		show(refused(fault.Invalid, "revoke_reason_required"))
		return
	case certificate.CheckRevocation(reason, who) != nil:
		show(refused(fault.Invalid, certificate.ReasonRevocationBadText))
		return
	case r.PostFormValue("confirm") != "1":
		d.Confirm = true
		show(nil)
		return
	}
	if err := c.reads().Record(r.Context(), audit.Entry{Time: c.now(), Actor: audit.Actor{Kind: audit.Staff, ID: userOf(r)},
		Purpose: "revoca del certificato: " + reason, Subject: d.Rec.SubjectCF, Data: "revoca del certificato " + d.Rec.ID, Channel: "admin", Request: d.Rec.ID}); err != nil {
		c.fail(w, r, err)
		return
	}
	rec, err := c.Certs.Revoke(d.Rec.ID, reason, who, c.now())
	if errors.Is(err, certificate.ErrAlreadyRevoked) {
		// Another clerk revoked it meanwhile: said as the check above says
		// it, and the page shows their revocation.
		if rec.Status == certificate.Revoked {
			d.Rec = rec
		}
		show(refused(fault.Conflict, "already_revoked", d.Rec.RevokedAt.In(operators.Rome).Format("02/01/2006 15:04")))
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log().Info("admin: certificate revoked", "id", rec.ID, "protocol", rec.Protocol, "by", who, "reason", reason)
	to := "/admin/certificates/" + url.PathEscape(rec.ID)
	if d.Purpose != "" {
		to += "?purpose=" + url.QueryEscape(d.Purpose)
	}
	redirect(w, r, to, "cert_revoked")
}

type registerData struct {
	Day, Prev, Next, Purpose string
	Entries                  []protocol.Entry
	Shown                    bool
}

// registerDay reads the day and purpose of a register request and the
// day's entries; it audits a read of every codice fiscale the register
// names. On failure it has answered.
func (c *Console) registerDay(w http.ResponseWriter, r *http.Request, v *view) (*registerData, bool) {
	q := r.URL.Query()
	d := &registerData{Purpose: strings.TrimSpace(q.Get("purpose"))}
	v.Data = d
	day := protocol.DayOf(c.now())
	if s := strings.TrimSpace(q.Get("day")); s != "" {
		var ok bool
		if day, ok = parseDayInput(s); !ok {
			c.renderRefused(w, r, "register", v, refused(fault.Invalid, "bad_day", s))
			return nil, false
		}
	}
	d.Day = day.String()
	d.Prev, d.Next = protocol.DayOf(day.Start().Add(-12*time.Hour)).String(), protocol.DayOf(day.End().Add(12*time.Hour)).String()
	if !q.Has("purpose") {
		c.render(w, r, http.StatusOK, "register", v)
		return nil, false
	}
	if !purposeOK(d.Purpose) {
		c.renderRefused(w, r, "register", v, refused(fault.Invalid, "purpose_required"))
		return nil, false
	}
	var es []protocol.Entry
	err := c.Stores.View(r.Context(), func(tx store.Tx) (err error) { es, err = tx.Protocol().Day(day); return err })
	if err != nil {
		c.fail(w, r, err)
		return nil, false
	}
	// The register's correspondents are the requesters' codes; its
	// certificates are about their subjects.
	recs, err := c.Certs.ByDay(day)
	if err != nil {
		c.fail(w, r, err)
		return nil, false
	}
	var audits []audit.Entry
	seen := map[string]bool{}
	for _, rec := range recs {
		for _, cf := range []string{rec.SubjectCF, rec.RequesterCF} {
			if cf != "" && !seen[cf] {
				seen[cf] = true
				audits = append(audits, audit.Entry{Time: c.now(), Actor: audit.Actor{Kind: audit.Staff, ID: userOf(r)},
					Purpose: d.Purpose, Subject: cf, Data: "registro di protocollo dei certificati del " + day.String(), Channel: "admin", Request: r.URL.Path})
			}
		}
	}
	if len(audits) > 0 {
		if err := c.reads().RecordAll(r.Context(), audits); err != nil {
			c.fail(w, r, err)
			return nil, false
		}
	}
	d.Entries, d.Shown = es, true
	return d, true
}

func (c *Console) registerPage(w http.ResponseWriter, r *http.Request) {
	v := c.newView(r, "nav.register")
	if _, ok := c.registerDay(w, r, v); ok {
		c.render(w, r, http.StatusOK, "register", v)
	}
}

// registerCSV downloads the day's register as protocol.WriteCSV writes
// it, with its SHA-256 in a header so the comune can keep the digest of
// what it exported.
func (c *Console) registerCSV(w http.ResponseWriter, r *http.Request) {
	v := c.newView(r, "nav.register")
	d, ok := c.registerDay(w, r, v)
	if !ok {
		return
	}
	day, _ := protocol.ParseDay(d.Day)
	var buf bytes.Buffer
	sum, err := protocol.WriteCSV(&buf, day, d.Entries)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "registro-certificati-"+d.Day+".csv"))
	w.Header().Set("Sportello-SHA256", fmt.Sprintf("%x", sum))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
