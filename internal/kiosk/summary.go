package kiosk

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/protocol"
)

// Sale is one transaction at the counter, as the day's summary counts it.
type Sale struct {
	Time     time.Time   `json:"time"`
	Staff    string      `json:"staff,omitempty"` // staff ID; empty in self-service
	Protocol string      `json:"protocol,omitempty"`
	Claim    string      `json:"claim,omitempty"` // queued: the claim code
	Types    []string    `json:"types"`
	Fees     []fees.Line `json:"fees"`
	Total    int64       `json:"total_cents"`
}

// Journal keeps the day's sales across restarts of the app.
type Journal interface {
	Append(s Sale) error
	// Since returns the sales at or after t, oldest first.
	Since(t time.Time) ([]Sale, error)
}

// Summary is the end-of-day account: what was issued, what was collected,
// and whom the money is owed to. Bollo goes to the State (paid through the
// shop's virtual stamp duty authorisation), diritti di segreteria to the
// city, the service fee stays with the shop.
type Summary struct {
	Day          time.Time      // midnight in Rome
	Transactions int            // sales, each of one or more certificates
	Certificates int            // certificate types issued, a contestuale counting each
	Queued       int            // sales still waiting for the hub
	ByType       map[string]int // certificate type → count
	Collected    int64          // everything the citizens paid
	State        int64          // imposta di bollo, owed to the State
	City         int64          // diritti di segreteria, owed to the city
	Shop         int64          // service fees, the shop's own
}

// Summarise adds up sales.
func Summarise(day time.Time, sales []Sale) Summary {
	s := Summary{Day: day, ByType: map[string]int{}}
	for _, sale := range sales {
		s.Transactions++
		if sale.Claim != "" && sale.Protocol == "" {
			s.Queued++
		}
		for _, t := range sale.Types {
			s.Certificates++
			s.ByType[t]++
		}
		for _, l := range sale.Fees {
			s.Collected += l.Cents
			switch l.Kind {
			case fees.Bollo:
				s.State += l.Cents
			case fees.Diritti:
				s.City += l.Cents
			case fees.Service:
				s.Shop += l.Cents
			}
		}
	}
	return s
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
