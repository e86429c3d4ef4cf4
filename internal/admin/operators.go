package admin

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/settlement"
)

func (c *Console) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/login", c.loginPage)
	mux.HandleFunc("POST /admin/login", c.login)
	mux.HandleFunc("GET /admin/lang", c.setLang)
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusMovedPermanently)
	})
	mux.Handle("POST /admin/logout", c.require("", c.logout))
	mux.Handle("GET /admin/{$}", c.require("", c.dashboard))

	mux.Handle("GET /admin/operators", c.require(staff.ViewOperators, c.operatorList))
	mux.Handle("GET /admin/operators/{id}", c.require(staff.ViewOperators, c.operatorPage))
	mux.Handle("POST /admin/operators/{id}/status", c.require(staff.ManageOperators, c.operatorStatus))
	mux.Handle("POST /admin/operators/{id}/code", c.require(staff.ManageOperators, c.operatorCode))
	mux.Handle("POST /admin/operators/{id}/hours", c.require(staff.ManageOperators, c.operatorHours))
	mux.Handle("POST /admin/operators/{id}/agreement", c.require(staff.ManageOperators, c.operatorAgreement))
	mux.Handle("POST /admin/devices/{key}/revoke", c.require(staff.ManageOperators, c.deviceRevoke))
	c.clerkRoutes(mux)
	mux.Handle("GET /admin/operators/{id}/convention.zip", c.require(staff.SearchAudit, c.conventionKit))
	mux.Handle("GET /admin/map", c.require(staff.ViewOperators, c.mapPage))

	mux.Handle("GET /admin/fees", c.require(staff.ViewFees, c.feesPage))
	mux.Handle("POST /admin/fees/cap", c.require(staff.ManageCity, c.feeCapSet))
	mux.Handle("POST /admin/fees/offline", c.require(staff.ManageCity, c.offlineSet))
	mux.Handle("POST /admin/fees/retention", c.require(staff.ManageCity, c.retentionSet))
	c.citySettingsRoutes(mux)
	mux.Handle("GET /admin/settlements", c.require(staff.ViewSettlements, c.settlementsPage))
	mux.Handle("GET /admin/settlements.csv", c.require(staff.ViewSettlements, c.settlementsCSV))
	mux.Handle("GET /admin/settlements/{id}", c.require(staff.ViewSettlements, c.settlementPage))
	mux.Handle("GET /admin/settlements/{id}/csv", c.require(staff.ViewSettlements, c.settlementCSV))
	mux.Handle("GET /admin/settlements/{id}/pdf", c.require(staff.ViewSettlements, c.settlementPDF))

	mux.Handle("GET /admin/activity", c.require(staff.ViewActivity, c.activityPage))
	mux.Handle("GET /admin/audit", c.require(staff.SearchAudit, c.auditPage))
	mux.Handle("GET /admin/notices", c.require(staff.ViewActivity, c.noticesPage))
	mux.Handle("GET /admin/persons", c.require(staff.ReadPersons, c.personsPage))
	c.certificateRoutes(mux)
	c.requestRoutes(mux)
	mux.Handle("GET /admin/staff", c.require(staff.ManageStaff, c.staffPage))
	mux.Handle("POST /admin/staff", c.require(staff.ManageStaff, c.staffAdd))
	c.staffRoutes(mux)
	c.alertRoutes(mux)
	c.appointmentRoutes(mux)
	mux.Handle("GET /admin/account", c.require("", c.accountPage))
	mux.Handle("POST /admin/account/totp", c.require("", c.accountTOTP))
}

type dashboardData struct {
	Pending, Active, Suspended, Devices, Offline int
	// Alerts are the limits' alerts staff have not reviewed (-1: the hub
	// keeps no limits).
	Alerts       int
	Today, Month int
	MonthAmounts settlement.Amounts
	Queue        []*operators.Operator
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request) {
	ops, err := c.Operators.List()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	now := c.now()
	var d dashboardData
	for _, o := range ops {
		switch o.Status {
		case operators.Applied:
			d.Pending++
			d.Queue = append(d.Queue, o)
		case operators.Active:
			d.Active++
		case operators.Suspended:
			d.Suspended++
		}
		devs, err := c.Operators.Devices(o.ID)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, dv := range devs {
			if dv.Status == operators.DeviceActive {
				d.Devices++
				if offline(dv, now) {
					d.Offline++
				}
			}
		}
	}
	today, err := c.Certs.ByDay(protocol.DayOf(now))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Today = len(today)
	a, _, err := c.monthSettlements(settlement.MonthOf(now))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.MonthAmounts, d.Month = a, a.Certificates
	d.Alerts = -1
	if c.Limits != nil {
		if d.Alerts, err = c.openAlerts(r); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	v := c.newView(r, "nav.home")
	v.Data = d
	c.render(w, r, http.StatusOK, "dashboard", v)
}

// offlineAfter is how long a kiosk may stay silent before the console
// flags it: a kiosk polls the hub every few minutes while it is open.
const offlineAfter = time.Hour

func offline(d *operators.Device, now time.Time) bool {
	return d.LastContact.IsZero() || now.Sub(d.LastContact) > offlineAfter
}

type operatorRow struct {
	*operators.Operator
	Devices int
}

func (c *Console) operatorList(w http.ResponseWriter, r *http.Request) {
	ops, err := c.Operators.List()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	filter := r.URL.Query().Get("status")
	var rows []operatorRow
	for _, o := range ops {
		if filter != "" && string(o.Status) != filter {
			continue
		}
		devs, err := c.Operators.Devices(o.ID)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		n := 0
		for _, d := range devs {
			if d.Status == operators.DeviceActive {
				n++
			}
		}
		rows = append(rows, operatorRow{o, n})
	}
	// Applications first: they are the queue someone has to work through.
	sort.SliceStable(rows, func(i, j int) bool {
		return (rows[i].Status == operators.Applied) && rows[j].Status != operators.Applied
	})
	v := c.newView(r, "nav.operators")
	v.Data = struct {
		Rows     []operatorRow
		Filter   string
		Statuses []operators.Status
	}{rows, filter, []operators.Status{operators.Applied, operators.Approved, operators.Active, operators.Suspended, operators.Revoked}}
	c.render(w, r, http.StatusOK, "operators", v)
}

type deviceView struct {
	*operators.Device
	Offline bool
	Backlog *operators.Backlog // the device's last report of its offline queue; nil if none
}

type operatorPageData struct {
	Op        *operators.Operator
	Devices   []deviceView
	Codes     []operators.EnrolmentCode
	Next      []operators.Status
	WeekSpec  string
	Days      []dayHours
	Types     []certificate.Type
	Allowed   map[certificate.Type]bool
	FeeCap    int
	NewCode   string
	CodeUntil time.Time
	CanManage bool
	// CanExport: the kit holds the shop's audit extract, so only staff
	// who may search the audit log get it.
	CanExport bool
	Map       mapView
	Clerks    []*operators.Clerk // the shop's named clerks (clerks.go)
}

type dayHours struct {
	Name  string
	Spans string
}

// nextStatuses are the moves offered as buttons, as operators allows them.
var nextStatuses = map[operators.Status][]operators.Status{
	operators.Applied:   {operators.Approved, operators.Revoked},
	operators.Approved:  {operators.Active, operators.Revoked},
	operators.Active:    {operators.Suspended, operators.Revoked},
	operators.Suspended: {operators.Active, operators.Revoked},
}

func (c *Console) operatorData(r *http.Request, id string) (*operatorPageData, error) {
	o, err := c.Operators.Get(id)
	if err != nil {
		return nil, err
	}
	devs, err := c.Operators.Devices(id)
	if err != nil {
		return nil, err
	}
	codes, err := c.codesOf(id)
	if err != nil {
		return nil, err
	}
	now := c.now()
	d := &operatorPageData{Op: o, Codes: codes, Next: nextStatuses[o.Status], WeekSpec: weekSpec(o.Hours.Week),
		Types: certificate.Types(), Allowed: map[certificate.Type]bool{}}
	if d.FeeCap, err = c.feeCap(); err != nil {
		return nil, err
	}
	a, _ := authOf(r)
	d.CanManage = a != nil && a.Role.Can(staff.ManageOperators)
	d.CanExport = a != nil && a.Role.Can(staff.SearchAudit)
	if d.Clerks, err = c.Operators.Clerks(id); err != nil {
		return nil, err
	}
	for _, dv := range devs {
		bl, err := c.Operators.Backlog(dv.KeyID)
		if err != nil {
			return nil, err
		}
		d.Devices = append(d.Devices, deviceView{dv, offline(dv, now), bl})
	}
	lang := langOf(r)
	for _, wd := range weekOrder {
		d.Days = append(d.Days, dayHours{Name: tr(lang, "day."+wd.String()[:3]), Spans: spansText(o.Hours.Week.On(wd), lang)})
	}
	if o.Agreement != nil {
		for _, t := range o.Agreement.Types {
			d.Allowed[t] = true
		}
	}
	all, err := c.Operators.List()
	if err != nil {
		return nil, err
	}
	d.Map = buildMap(all, o.ID, lang, "/admin/operators/", 640, 400)
	return d, nil
}

func (c *Console) operatorPage(w http.ResponseWriter, r *http.Request) {
	d, err := c.operatorData(r, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := c.newView(r, "operator.title")
	v.Title = d.Op.DisplayName()
	v.Data = d
	c.render(w, r, http.StatusOK, "operator", v)
}

// codesOf lists the last ten enrolment codes issued for an operator,
// newest first.
func (c *Console) codesOf(id string) ([]operators.EnrolmentCode, error) {
	out, err := c.Operators.Codes(id)
	if len(out) > 10 {
		out = out[:10]
	}
	return out, err
}

func (c *Console) operatorStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	to, err := operators.ParseStatus(r.PostFormValue("to"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if _, err := c.Operators.SetStatus(id, to, "staff:"+userOf(r), reason); err != nil {
		c.fail(w, r, err)
		return
	}
	c.log().Info("admin: operator status", "operator", id, "to", to, "by", userOf(r))
	redirect(w, r, "/admin/operators/"+id, string(to))
}

func (c *Console) operatorCode(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	code, rec, err := c.Operators.IssueCode(id, "staff:"+userOf(r), operators.DefaultCodeTTL)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log().Info("admin: enrolment code issued", "operator", id, "by", userOf(r))
	d, err := c.operatorData(r, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// The code is shown once, in this answer: only its hash is stored.
	d.NewCode, d.CodeUntil = code, rec.Expires
	v := c.newView(r, "operator.title")
	v.Title = d.Op.DisplayName()
	v.Data = d
	c.render(w, r, http.StatusOK, "operator", v)
}

// updateOperator changes an operator in one transaction and validates it
// against the city's policy as that transaction sees it: a cap lowered
// meanwhile cannot let an agreement above it through.
func (c *Console) updateOperator(id string, fn func(*operators.Operator) error) error {
	_, err := c.Operators.Update(id, fn)
	return err
}

func (c *Console) operatorHours(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	spec := r.PostFormValue("week")
	err := c.updateOperator(id, func(o *operators.Operator) error {
		week, err := operators.ParseWeek(strings.ReplaceAll(strings.ReplaceAll(spec, "\r\n", ";"), "\n", ";"))
		if err != nil {
			return err
		}
		o.Hours.Week = week
		o.Hours.OpenOnHolidays = r.PostFormValue("holidays") == "on"
		return nil
	})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/operators/"+id, "hours")
}

func (c *Console) operatorAgreement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := c.updateOperator(id, func(o *operators.Operator) error {
		if o.Category == operators.RegistryOffice {
			return refused(fault.Invalid, "office_no_agreement")
		}
		a := &operators.Agreement{}
		if o.Agreement != nil {
			// Set apart, with its legal basis, by hub operator widening:
			// editing dates, fee or types keeps it.
			a.Widening = o.Agreement.Widening
		}
		var err error
		if a.Signed, err = registry.ParseDate(r.PostFormValue("signed")); err != nil {
			return refused(fault.Invalid, "date_invalid")
		}
		if a.Expires, err = registry.ParseDate(r.PostFormValue("expires")); err != nil {
			return refused(fault.Invalid, "date_invalid")
		}
		cents, err := parseEuro(r.PostFormValue("fee"))
		if err != nil {
			return err
		}
		a.FeeCents = int(cents)
		for _, s := range r.PostForm["types"] {
			t, err := certificate.ParseType(s)
			if err != nil {
				return refused(fault.Invalid, "certificate_type_unknown", s)
			}
			a.Types = append(a.Types, t)
		}
		o.Agreement = a
		return nil
	})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/operators/"+id, "agreement")
}

// parseEuro reads "1,50", "1.50" or "2" as cents.
func parseEuro(s string) (int64, error) { return parseEuroUpTo(s, 1000) }

// parseEuroUpTo reads an amount in euro, of at most max whole euros.
func parseEuroUpTo(s string, max int64) (int64, error) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "€"))
	s = strings.ReplaceAll(s, ",", ".")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" {
		return 0, refused(fault.Invalid, "setting_amount", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || w > max || f < 0 {
		return 0, refused(fault.Invalid, "setting_amount", s)
	}
	return w*100 + f, nil
}

func (c *Console) deviceRevoke(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	d, err := c.Operators.RevokeDevice(key, "staff:"+userOf(r), r.PostFormValue("reason"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/operators/"+d.OperatorID, "device")
}

var weekOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// weekSpec writes a week in the form operators.ParseWeek reads, a day a
// line, for the hours editor.
func weekSpec(w operators.Week) string {
	var lines []string
	for _, d := range weekOrder {
		spans := w.On(d)
		if len(spans) == 0 {
			continue
		}
		parts := []string{strings.ToLower(d.String()[:3])}
		for _, iv := range spans {
			parts = append(parts, iv.String())
		}
		lines = append(lines, strings.Join(parts, " "))
	}
	return strings.Join(lines, "\n")
}

func spansText(spans []operators.Interval, lang string) string {
	if len(spans) == 0 {
		return tr(lang, "hours.closed")
	}
	var parts []string
	for _, iv := range spans {
		parts = append(parts, strings.Replace(iv.String(), "-", "–", 1))
	}
	return strings.Join(parts, ", ")
}
