package kiosk

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/protocol"
)

// Sale is one transaction at the counter, as the day's summary counts it,
// or the settlement of an earlier queued one: a record with Settles set
// says what the hub made of the request with that claim code (issued with
// Protocol and the hub's Fees, or refused with Refused), without rewriting
// the append-only journal.
type Sale struct {
	Time     time.Time   `json:"time"`
	Staff    string      `json:"staff,omitempty"` // staff ID; empty in self-service
	Protocol string      `json:"protocol,omitempty"`
	Claim    string      `json:"claim,omitempty"` // queued: the claim code
	Types    []string    `json:"types"`
	Fees     []fees.Line `json:"fees"`
	Total    int64       `json:"total_cents"`
	Settles  string      `json:"settles,omitempty"` // a settlement: the claim code it settles
	Refused  string      `json:"refused,omitempty"` // a settlement: the hub's reason for refusing
	// Method is how the money was taken (MethodCounter when empty, as
	// every sale journaled before methods were); Payment is the hub's
	// payment id of a till or pagoPA payment.
	Method  string `json:"method,omitempty"`
	Payment string `json:"payment,omitempty"`
	// Void marks a refusal given while the citizen was at the counter:
	// the sale never happened and nothing was taken, so the day's
	// account leaves it out. (Every request is written down before it
	// is sent, hence before the hub can refuse it.)
	Void bool `json:"void,omitempty"`
}

// How a sale's money was taken, for the day's totals by method.
const (
	// MethodCounter: paid at this counter (cash or the shop's own card
	// terminal) for a certificate issued here.
	MethodCounter = "counter"
	// MethodTill: a till payment this counter confirmed for one of the
	// shop's self-service kiosks (till.go); the certificate is issued
	// there, the money is in this till.
	MethodTill = "till"
	// MethodPagoPA: paid with a pagoPA notice at a self-service kiosk;
	// the money went to the city, not through the shop.
	MethodPagoPA = "pagopa"
)

// Journal keeps the day's sales across restarts of the app.
type Journal interface {
	Append(s Sale) error
	// Since returns the sales at or after t, oldest first.
	Since(t time.Time) ([]Sale, error)
}

// Summary is the end-of-day account: what was issued, what was collected,
// and whom the money is owed to. Bollo goes to the State (paid through the
// shop's virtual stamp duty authorisation), diritti di segreteria to the
// city, the service fee stays with the shop. A request queued while the hub
// was unreachable counts as issued once the hub issued it; until then its
// money is held (QueuedCents) and owed to no one yet; a refused one was
// not charged and its money goes back to the citizen (RefusedCents).
type Summary struct {
	Day          time.Time      // midnight in Rome
	Transactions int            // sales, each of one or more certificates, whatever became of them
	Certificates int            // certificate types issued, a contestuale counting each
	Protocols    []string       // protocol numbers issued, in sale order
	Queued       int            // sales still waiting for the hub
	Refused      int            // queued sales the hub refused
	ByType       map[string]int // certificate type → count issued
	Collected    int64          // what the till holds for the day: issued and queued
	QueuedCents  int64          // part of Collected still waiting for the hub
	RefusedCents int64          // taken for refused requests: to give back, not in Collected
	State        int64          // imposta di bollo, owed to the State
	City         int64          // diritti di segreteria, owed to the city
	Shop         int64          // service fees, the shop's own
	// Contrassegno is the bollo paid with marche da bollo (contrassegni
	// telematici) the shop sold and applied: the State had it when the
	// shop printed the marca, so it is owed to nobody here (fees.Shares).
	Contrassegno int64
	// ByMethod is what was taken by each method (MethodCounter,
	// MethodTill, MethodPagoPA), refused sales left out; TillPayments
	// counts the till payments confirmed here for self-service kiosks,
	// whose money is in Collected (the till holds it) but in no share:
	// the self-service kiosk's own account settles it.
	ByMethod     map[string]int64
	TillPayments int
}

// Summarise adds up sales, applying the settlements among them to the
// queued sales they name. A settlement for a sale outside sales (queued
// on an earlier day) is left to that day's account.
func Summarise(day time.Time, sales []Sale) Summary {
	s := Summary{Day: day, ByType: map[string]int{}, ByMethod: map[string]int64{}}
	settled := map[string]Sale{}
	for _, sale := range sales {
		if sale.Settles != "" {
			if _, dup := settled[sale.Settles]; !dup {
				settled[sale.Settles] = sale
			}
		}
	}
	var shares fees.Shares
	for _, sale := range sales {
		if sale.Settles != "" {
			continue
		}
		if st, ok := settled[sale.Claim]; ok && sale.Claim != "" && st.Void {
			continue
		}
		method := sale.Method
		if method == "" {
			method = MethodCounter
		}
		if method == MethodTill && sale.Protocol == "" && sale.Claim == "" {
			// Money taken here for a self-service kiosk's certificate.
			s.TillPayments++
			s.Collected += sale.Total
			s.ByMethod[MethodTill] += sale.Total
			continue
		}
		s.Transactions++
		if sale.Claim != "" && sale.Protocol == "" {
			st, ok := settled[sale.Claim]
			switch {
			case !ok:
				s.Queued++
				s.Collected += sale.Total
				s.QueuedCents += sale.Total
				s.ByMethod[method] += sale.Total
				continue
			case st.Refused != "":
				s.Refused++
				s.RefusedCents += sale.Total
				continue
			}
			// Issued later: what the hub charged is what counts.
			sale.Protocol, sale.Types, sale.Fees = st.Protocol, st.Types, st.Fees
		}
		if sale.Protocol != "" {
			s.Protocols = append(s.Protocols, sale.Protocol)
		}
		for _, t := range sale.Types {
			s.Certificates++
			s.ByType[t]++
		}
		for _, l := range sale.Fees {
			s.Collected += l.Cents
			s.ByMethod[method] += l.Cents
			_ = shares.Add(l) // the hub charges no other kind: the hub's settlement refuses one
		}
	}
	s.State, s.City, s.Shop, s.Contrassegno = shares.State, shares.City, shares.Operator, shares.Contrassegno
	return s
}

// unsettled lists the claim codes of queued sales no settlement names yet.
func unsettled(sales []Sale) []string {
	done := map[string]bool{}
	for _, s := range sales {
		if s.Settles != "" {
			done[s.Settles] = true
		}
	}
	var out []string
	for _, s := range sales {
		if s.Settles == "" && s.Claim != "" && s.Protocol == "" && !done[s.Claim] {
			out = append(out, s.Claim)
		}
	}
	return out
}

// TypesSorted lists ByType's keys in order, for stable screens.
func (s Summary) TypesSorted() []string {
	var ts []string
	for t := range s.ByType {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// startOfDay is midnight in Rome of t's day there: the shop's day.
func startOfDay(t time.Time) time.Time {
	r := t.In(protocol.Rome)
	return time.Date(r.Year(), r.Month(), r.Day(), 0, 0, 0, 0, protocol.Rome)
}

// MemJournal keeps sales in memory (tests, demos without a profile).
type MemJournal struct {
	mu    sync.Mutex
	sales []Sale
}

func (j *MemJournal) Append(s Sale) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.sales = append(j.sales, s)
	return nil
}

func (j *MemJournal) Since(t time.Time) ([]Sale, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Sale
	for _, s := range j.sales {
		if !s.Time.Before(t) {
			out = append(out, s)
		}
	}
	return out, nil
}

// FileJournal appends sales as JSON lines to a file in the kiosk's profile.
// It holds amounts and protocol numbers, no personal data.
type FileJournal struct {
	Path string
	mu   sync.Mutex
}

func (j *FileJournal) Append(s Sale) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(j.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("cannot open the sales journal: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("cannot write the sales journal: %w", err)
	}
	// The sale is money taken: it must survive a power cut.
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (j *FileJournal) Since(t time.Time) ([]Sale, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	f, err := os.Open(j.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Sale
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var s Sale
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			// A line cut by a crash mid-write is the last one: skip it.
			continue
		}
		if !s.Time.Before(t) {
			out = append(out, s)
		}
	}
	return out, sc.Err()
}

// liveSummary recomputes the day's account while its screen is open, so
// the screen follows the sales the outbox's sender settles in the
// background and whatever else reaches the journal (issue 15 item 7: the
// summary updates while open). The status poll and Settle call it; the
// view changes only when the account does.
func (f *Flow) liveSummary() {
	f.mu.Lock()
	on := f.v.Step == StepSummary
	f.mu.Unlock()
	if !on {
		return
	}
	s, err := f.Summary()
	if err != nil {
		f.deps.Log.Warn("the day's summary could not be read again", "err", err)
		return
	}
	f.mu.Lock()
	changed := f.v.Step == StepSummary && (f.v.Summary == nil || !reflect.DeepEqual(*f.v.Summary, s))
	f.mu.Unlock()
	if changed {
		f.update(func(v *View) {
			if v.Step == StepSummary {
				v.Summary = &s
			}
		})
	}
}
