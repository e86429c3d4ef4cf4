package opendata

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
)

// Datasets are the datasets published each month, by file name.
var Datasets = []string{"certificates", "appointments", "requests"}

// Row is one published figure: how many services of one type went
// through one channel for residents of one district in one month.
type Row struct {
	Month    string `json:"month"`
	District string `json:"district"`
	Channel  string `json:"channel"`
	Type     string `json:"type"`
	// Count is nil when Suppressed.
	Count      *int `json:"count"`
	Suppressed bool `json:"suppressed"`
}

// key is one cell before counting.
type key struct{ district, channel, typ string }

// publish turns counts into rows, suppressing those below MinCount.
func publish(month string, counts map[key]int) []Row {
	rows := make([]Row, 0, len(counts))
	for k, n := range counts {
		r := Row{Month: month, District: k.district, Channel: k.channel, Type: k.typ}
		if n < MinCount {
			r.Suppressed = true
		} else {
			r.Count = &n
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b Row) int {
		return strings.Compare(a.District+"\x00"+a.Channel+"\x00"+a.Type, b.District+"\x00"+b.Channel+"\x00"+b.Type)
	})
	return rows
}

// Month parses "YYYY-MM" into its first instant in Rome.
func Month(s string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01", s, protocol.Rome)
	if err != nil {
		return time.Time{}, fmt.Errorf("month %q is not YYYY-MM", s)
	}
	return t, nil
}

// notResident is the district of a person with no residence here.
const notResident = "non residente"

// district is the CAP of p's residence on day d.
func district(r registry.Reader, cf string, d registry.Date) string {
	p, err := r.PersonByCF(cf)
	if err != nil {
		return notResident
	}
	for _, res := range p.Residences {
		if !d.Before(res.From) && (res.To.IsZero() || !res.To.Before(d)) && res.Address.CAP != "" {
			return res.Address.CAP
		}
	}
	return notResident
}

// Certificates counts the certificates issued in month (its first
// instant in Rome, Month), revoked ones included: they were issued.
func Certificates(ctx context.Context, s store.Store, month time.Time) ([]Row, error) {
	counts := map[key]int{}
	err := s.View(ctx, func(tx store.Tx) error {
		for d := month; d.Month() == month.Month(); d = d.AddDate(0, 0, 1) {
			recs, err := tx.Certificates().ByDay(protocol.DayOf(d))
			if err != nil {
				return err
			}
			for _, rec := range recs {
				types := make([]string, len(rec.Types))
				for i, t := range rec.Types {
					types[i] = string(t)
				}
				slices.Sort(types)
				counts[key{district(tx.Registry(), rec.SubjectCF, registry.DateOf(rec.Issued.In(protocol.Rome))), certChannel(rec.Channel), strings.Join(types, "+")}]++
			}
		}
		return nil
	})
	return publish(month.Format("2006-01"), counts), err
}

func certChannel(c certificate.Channel) string {
	switch c {
	case certificate.SelfService:
		return "self_service"
	case certificate.Office:
		return "office"
	}
	return "counter"
}

// Appointments counts the appointments whose slot falls in month,
// booked or done (not cancelled), by the service.
func Appointments(ctx context.Context, s store.Store, month time.Time) ([]Row, error) {
	counts := map[key]int{}
	err := s.View(ctx, func(tx store.Tx) error {
		offices, err := tx.Appointments().Offices()
		if err != nil {
			return err
		}
		for _, o := range offices {
			bs, err := tx.Appointments().Day(o.ID, month, month.AddDate(0, 1, 0))
			if err != nil {
				return err
			}
			for _, b := range bs {
				counts[key{district(tx.Registry(), b.CF, registry.DateOf(b.Start.In(protocol.Rome))), apptChannel(b.Channel), string(b.Service)}]++
			}
		}
		return nil
	})
	return publish(month.Format("2006-01"), counts), err
}

func apptChannel(c appointment.Channel) string {
	switch c {
	case appointment.Kiosk:
		return "self_service"
	case appointment.Console:
		return "office"
	}
	return "counter"
}

// Request outcomes, the second part of a requests row's type.
const (
	OutcomeOpen     = "open"
	OutcomeAccepted = "accepted"
	OutcomeRefused  = "refused"
)

// Requests counts the demographic requests filed in month, by the
// requester's district on the day of filing, the channel, and their kind
// with where they stand when the file is made ("cambio_residenza/open",
// "dat/accepted"): a month's figures move from open to accepted or
// refused as the office decides, and stop moving once all are decided.
func Requests(ctx context.Context, s store.Store, month time.Time) ([]Row, error) {
	counts := map[key]int{}
	end := month.AddDate(0, 1, 0)
	err := s.View(ctx, func(tx store.Tx) error {
		all, err := tx.Requests().List(request.Filter{})
		if err != nil {
			return err
		}
		for _, rec := range all {
			if rec.Filed.Before(month) || !rec.Filed.Before(end) {
				continue
			}
			counts[key{district(tx.Registry(), rec.RequesterCF, registry.DateOf(rec.Filed.In(protocol.Rome))), certChannel(certificate.Channel(rec.Channel)),
				string(rec.Kind) + "/" + outcome(rec.Status)}]++
		}
		return nil
	})
	return publish(month.Format("2006-01"), counts), err
}

func outcome(s request.Status) string {
	switch s {
	case request.Accepted:
		return OutcomeAccepted
	case request.Refused:
		return OutcomeRefused
	}
	return OutcomeOpen
}

// Dataset computes the named dataset (one of Datasets) for month.
func Dataset(ctx context.Context, s store.Store, name string, month time.Time) ([]Row, error) {
	switch name {
	case "certificates":
		return Certificates(ctx, s, month)
	case "appointments":
		return Appointments(ctx, s, month)
	case "requests":
		return Requests(ctx, s, month)
	}
	return nil, fmt.Errorf("no dataset %q: there are %s", name, strings.Join(Datasets, ", "))
}

// CSV is rows as the schema's CSV: a header of the fields' names, a
// suppressed count empty.
func CSV(rows []Row) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := make([]string, 0, 6)
	for _, f := range TableSchema().Fields {
		head = append(head, f.Name)
	}
	w.Write(head)
	for _, r := range rows {
		count := ""
		if r.Count != nil {
			count = strconv.Itoa(*r.Count)
		}
		w.Write([]string{r.Month, r.District, r.Channel, r.Type, count, strconv.FormatBool(r.Suppressed)})
	}
	w.Flush()
	return b.Bytes()
}

// JSON is rows as a JSON array of objects named as the schema's fields,
// a suppressed count null.
func JSON(rows []Row) []byte {
	if rows == nil {
		rows = []Row{}
	}
	b, _ := json.MarshalIndent(rows, "", "  ")
	return append(b, '\n')
}
