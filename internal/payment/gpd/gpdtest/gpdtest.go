// Package gpdtest is a local stand-in for PagoPA's GPD debt-position
// service, for tests: it serves the three operations the hub uses with the
// shapes of GPD's published OpenAPI (pagopa/pagopa-api, openapi/gpd.json:
// createPosition, getOrganizationDebtPositionByIUPD, invalidatePosition),
// checks the subscription key, the creditor in the path and the body's
// required fields and coherence as GPD documents them (the sum of the
// transfers equals the option's amount, an IBAN on each transfer, the due
// date not past, no duplicate IUPD or IUV), and lets the test play the
// citizen paying the notice (Pay) or the service going down (SetDown).
package gpdtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/payment/gpd"
)

// Server is the stand-in; its URL is the service root a gpd.Client takes.
type Server struct {
	*httptest.Server
	Key, Creditor string
	Now           func() time.Time

	mu        sync.Mutex
	positions map[string]*gpd.PaymentPosition // by IUPD
	iuvs      map[string]string               // IUV → IUPD
	down      bool
	calls     int
}

// New starts a server for creditor (11 digits) accepting key; Close it.
func New(key, creditor string, now func() time.Time) *Server {
	s := &Server{Key: key, Creditor: creditor, Now: now, positions: map[string]*gpd.PaymentPosition{}, iuvs: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /organizations/{org}/debtpositions", s.create)
	mux.HandleFunc("GET /organizations/{org}/debtpositions/{iupd}", s.get)
	mux.HandleFunc("POST /organizations/{org}/debtpositions/{iupd}/invalidate", s.invalidate)
	s.Server = httptest.NewServer(s.guard(mux))
	return s
}

// SetDown makes every call answer 500, GPD's "Service unavailable".
func (s *Server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// Calls is how many requests reached the service.
func (s *Server) Calls() int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls }

// Position is the stored position with iupd, or nil.
func (s *Server) Position(iupd string) *gpd.PaymentPosition {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.positions[iupd]
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// Pay plays a PSP collecting the notice with this number (aux digit and
// IUV) at at: the position becomes PAID, its option PO_PAID with a
// receipt. It reports whether the notice was payable.
func (s *Server) Pay(notice string, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	iupd := s.iuvs[strings.TrimPrefix(notice, gpd.AuxDigit)]
	p := s.positions[iupd]
	if p == nil || p.Status != gpd.StatusValid || len(notice) != 18 {
		return false
	}
	at = at.UTC()
	p.Status, p.PaymentDate = gpd.StatusPaid, &at
	o := &p.PaymentOption[0]
	o.Status, o.PaymentDate, o.IDReceipt = "PO_PAID", &at, "rcpt-"+o.IUV
	return true
}

func problem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(gpd.ProblemJSON{Title: title, Status: status, Detail: detail})
}

// guard answers as GPD's gateway does before any operation: 500 while
// down, 401 without the right subscription key, 403 for another creditor.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls++
		down := s.down
		s.mu.Unlock()
		w.Header().Set("X-Request-Id", fmt.Sprintf("req-%d", time.Now().UnixNano()))
		switch {
		case down:
			problem(w, http.StatusInternalServerError, "Service unavailable", "the debt-position service is down")
		case r.Header.Get(gpd.KeyHeader) == "" || r.Header.Get(gpd.KeyHeader) != s.Key:
			w.WriteHeader(http.StatusUnauthorized) // "Wrong or missing function key.", no body
		case !strings.HasPrefix(r.URL.Path, "/organizations/"+s.Creditor+"/"):
			problem(w, http.StatusForbidden, "Forbidden", "You are not allowed to access this resource.")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var p gpd.PaymentPosition
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&p); err != nil {
		problem(w, http.StatusBadRequest, "Malformed request", err.Error())
		return
	}
	if msg := s.validate(&p); msg != "" {
		problem(w, http.StatusBadRequest, "Malformed request", msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &p.PaymentOption[0]
	if _, dup := s.positions[p.IUPD]; dup {
		problem(w, http.StatusConflict, "Conflict", "duplicate debt position found: iupd "+p.IUPD)
		return
	}
	if _, dup := s.iuvs[o.IUV]; dup {
		problem(w, http.StatusConflict, "Conflict", "duplicate debt position found: iuv "+o.IUV)
		return
	}
	p.Status = gpd.StatusDraft
	if r.URL.Query().Get("toPublish") == "true" {
		// Published with no validity date: valid at once.
		p.Status = gpd.StatusValid
	}
	o.NAV, o.Status = gpd.AuxDigit+o.IUV, "PO_UNPAID"
	s.positions[p.IUPD], s.iuvs[o.IUV] = &p, p.IUPD
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(p)
}

// validate checks what GPD documents it checks on creation.
func (s *Server) validate(p *gpd.PaymentPosition) string {
	switch {
	case p.IUPD == "" || p.FiscalCode == "" || p.FullName == "" || p.CompanyName == "":
		return "iupd, fiscalCode, fullName and companyName are required"
	case p.Type != "F" && p.Type != "G":
		return "type must be F or G"
	case len(p.CompanyName) > 140:
		return "companyName is longer than 140"
	case len(p.PaymentOption) == 0:
		return "a debt position needs a payment option"
	}
	for _, o := range p.PaymentOption {
		var sum int64
		switch {
		case o.IUV == "" || o.Description == "" || o.DueDate.IsZero():
			return "iuv, description and dueDate are required"
		case !gpd.ValidIUV(o.IUV):
			return "iuv " + o.IUV + " is not 17 digits with valid check digits"
		case o.Amount < 1:
			return "amount must be at least 1"
		case len(o.Description) > 140:
			return "description is longer than 140"
		case o.DueDate.Before(s.Now()):
			return "dueDate is in the past"
		case len(o.Transfer) == 0 || len(o.Transfer) > 5:
			return "a payment option has 1 to 5 transfers"
		}
		for _, t := range o.Transfer {
			if t.IDTransfer < "1" || t.IDTransfer > "5" || len(t.IDTransfer) != 1 || t.Category == "" || t.RemittanceInformation == "" || t.Amount < 1 {
				return "idTransfer (1-5), amount, category and remittanceInformation are required"
			}
			if t.IBAN == "" {
				return "a transfer needs an iban (or a stamp)"
			}
			sum += t.Amount
		}
		if sum != o.Amount {
			return fmt.Sprintf("the transfers sum to %d but the option's amount is %d", sum, o.Amount)
		}
	}
	return ""
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.positions[r.PathValue("iupd")]
	var out gpd.PaymentPosition
	if p != nil {
		if p.Status == gpd.StatusValid && !s.Now().Before(p.PaymentOption[0].DueDate) && p.SwitchToExpired {
			p.Status = gpd.StatusExpired
		}
		out = *p
	}
	s.mu.Unlock()
	if p == nil {
		problem(w, http.StatusNotFound, "Not found", "No debt position found.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (s *Server) invalidate(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.positions[r.PathValue("iupd")]
	switch {
	case p == nil:
		problem(w, http.StatusNotFound, "Not found", "No debt position found.")
	case p.Status != gpd.StatusValid && p.Status != gpd.StatusPublished:
		problem(w, http.StatusConflict, "Conflict", "debt position is not in invalidable state: "+p.Status)
	default:
		p.Status = gpd.StatusInvalid
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p)
	}
}
