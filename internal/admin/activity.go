package admin

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
)

type countRow struct {
	Name  string
	Count int
}

type activityData struct {
	Days                   int
	From, To               protocol.Day
	Total                  int
	PerDay, Failures       template.HTML
	ByType, ByOperator     template.HTML
	TypeRows, OperatorRows []countRow
	ChannelRows            []countRow
	Refusals               []countRow
	Verifications          []countRow
}

func (c *Console) activityPage(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	days, _ := strconv.Atoi(r.URL.Query().Get("days"))
	if days < 7 || days > 92 {
		days = 30
	}
	now := c.now()
	var labels []string
	var dayList []protocol.Day
	for i := days - 1; i >= 0; i-- {
		d := protocol.DayOf(now.AddDate(0, 0, -i))
		dayList = append(dayList, d)
		labels = append(labels, d.String()[8:10]+"/"+d.String()[5:7])
	}
	channels := []certificate.Channel{certificate.Counter, certificate.SelfService, certificate.Office}
	perChannel := make([][]int, len(channels))
	for i := range perChannel {
		perChannel[i] = make([]int, days)
	}
	byType, byOp, byChannel := map[string]int{}, map[string]int{}, map[string]int{}
	total := 0
	for i, d := range dayList {
		recs, err := c.Certs.ByDay(d)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, rec := range recs {
			total++
			for ci, ch := range channels {
				if rec.Channel == ch {
					perChannel[ci][i]++
				}
			}
			byChannel[tr(lang, "channel."+string(rec.Channel))]++
			if len(rec.Types) > 0 {
				byType[rec.Types[0].Title()]++
			}
			op := rec.OperatorID
			if op == "" {
				op = tr(lang, "activity.nooperator")
			}
			byOp[op]++
		}
	}
	var ss []series
	for i, ch := range channels {
		ss = append(ss, series{Name: tr(lang, "channel."+string(ch)), Class: "s" + strconv.Itoa(i), Values: perChannel[i]})
	}
	names := map[string]string{}
	if ops, err := c.Operators.List(); err == nil {
		for _, o := range ops {
			names[o.ID] = o.DisplayName()
		}
	}
	d := activityData{Days: days, From: dayList[0], To: dayList[len(dayList)-1], Total: total,
		PerDay: barChart(tr(lang, "activity.perday"), labels, ss, 760, 240)}
	d.TypeRows = sortedRows(byType, nil)
	d.OperatorRows = sortedRows(byOp, names)
	d.ChannelRows = sortedRows(byChannel, nil)
	d.ByType = hbar(tr(lang, "activity.bytype"), d.TypeRows)
	d.ByOperator = hbar(tr(lang, "activity.byoperator"), d.OperatorRows)

	events, err := c.Staff.Events(d.From, d.To)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	refused, unknown, revoked, sig := make([]int, days), make([]int, days), make([]int, days), make([]int, days)
	idx := map[protocol.Day]int{}
	for i, day := range dayList {
		idx[day] = i
	}
	reasons, verif := map[string]int{}, map[string]int{}
	for _, e := range events {
		i, ok := idx[e.Day]
		if !ok {
			continue
		}
		n := int(e.Count)
		switch e.Kind {
		case staff.EventRefused:
			refused[i] += n
			reasons[e.Reason] += n
		case staff.EventSignature:
			sig[i] += n
			reasons["signature: "+e.Reason] += n
		case staff.EventVerifyUnknown:
			unknown[i] += n
			verif[tr(lang, "activity.verify_unknown")] += n
		case staff.EventVerifyRevoked:
			revoked[i] += n
			verif[tr(lang, "activity.verify_revoked")] += n
		case staff.EventVerifyValid:
			verif[tr(lang, "activity.verify_valid")] += n
		}
	}
	d.Failures = barChart(tr(lang, "activity.failures"), labels, []series{
		{tr(lang, "activity.refused"), "s3", refused}, {tr(lang, "activity.signature"), "s4", sig},
		{tr(lang, "activity.verify_unknown"), "s5", unknown}, {tr(lang, "activity.verify_revoked"), "s6", revoked},
	}, 760, 200)
	d.Refusals = sortedRows(reasons, nil)
	d.Verifications = sortedRows(verif, nil)
	v := c.newView(r, "nav.activity")
	v.Data = d
	c.render(w, r, http.StatusOK, "activity", v)
}

func sortedRows(m map[string]int, names map[string]string) []countRow {
	var out []countRow
	for k, n := range m {
		if names != nil && names[k] != "" {
			k = names[k] + " (" + k + ")"
		}
		out = append(out, countRow{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func hbar(title string, rows []countRow) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	var labels []string
	var values []int
	for _, r := range rows {
		l := r.Name
		if len([]rune(l)) > 34 {
			l = string([]rune(l)[:33]) + "…"
		}
		labels, values = append(labels, l), append(values, r.Count)
	}
	return hbarChart(title, labels, values, 760)
}

// observe counts what the public API refuses: certificate requests
// (by reason), signatures (by reason), and verification look-ups of
// unknown or revoked certificates. Counting happens after the answer has
// been written, so it adds nothing to the client's wait.
func (c *Console) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verify := r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v/")
		api := strings.HasPrefix(r.URL.Path, "/api/v1/")
		if !verify && !api {
			next.ServeHTTP(w, r)
			return
		}
		rec := &capture{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		at := c.now()
		var kind, reason string
		switch {
		case verify && rec.status == http.StatusNotFound:
			kind = staff.EventVerifyUnknown
		case verify && rec.status == http.StatusOK:
			kind = staff.EventVerifyValid
			if cr, err := c.Certs.Get(strings.TrimPrefix(r.URL.Path, "/v/")); err == nil && cr.Status == certificate.Revoked {
				kind = staff.EventVerifyRevoked
			}
		case api && (rec.status == http.StatusUnauthorized || (rec.status == http.StatusForbidden && r.URL.Path != "/api/v1/certificates")):
			kind, reason = staff.EventSignature, rec.reason()
		case api && r.Method == http.MethodPost && r.URL.Path == "/api/v1/certificates" && rec.status >= 400 && rec.status < 500:
			kind, reason = staff.EventRefused, rec.reason()
		default:
			return
		}
		if err := c.Staff.Count(at, kind, reason); err != nil {
			c.log().Warn("admin: cannot count an event", "kind", kind, "err", err)
		}
	})
}

// capture keeps the status and the start of an error body.
type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capture) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status >= 400 && c.body.Len() < 4096 {
		c.body.Write(b[:min(len(b), 4096-c.body.Len())])
	}
	return c.ResponseWriter.Write(b)
}

func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *capture) reason() string {
	var p struct {
		Reason string `json:"reason"`
	}
	if json.Unmarshal(c.body.Bytes(), &p) != nil || p.Reason == "" {
		return "http_" + strconv.Itoa(c.status)
	}
	return p.Reason
}
