package admin

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/operators"
)

// alertRoutes registers the limits' alerts page: the breaches the hub
// flagged, the devices it suspended, their review, and the thresholds.
func (c *Console) alertRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/alerts", c.require(staff.ViewOperators, c.alertsPage))
	mux.Handle("POST /admin/alerts/devices/{key}/review", c.require(staff.ManageOperators, c.alertReview))
	mux.Handle("POST /admin/alerts/limits", c.require(staff.ManageCity, c.limitsSet))
}

type alertRow struct {
	limits.Alert
	ShopName, DeviceName string
	Later                bool // updated after it was raised
}

// reviewRow is a device with open alerts, waiting for staff.
type reviewRow struct {
	Key, Name, ShopID, ShopName string
	Status                      operators.DeviceStatus
	Alerts                      int
}

type limitRow struct {
	Name           string
	Value, Default int
	Set            bool
}

type alertsData struct {
	Reviews   []reviewRow
	Alerts    []alertRow
	CanReview bool
	CanEdit   bool
	Limits    []limitRow
	History   []city.Change
	Closed    bool // the page lists reviewed alerts too
}

// openAlerts counts the alerts staff have not reviewed, for the
// dashboard's badge; 0 when the hub keeps no limits.
func (c *Console) openAlerts(r *http.Request) (int, error) {
	if c.Limits == nil {
		return 0, nil
	}
	all, err := c.Limits.Store.Alerts(r.Context())
	n := 0
	for _, a := range all {
		if a.Open() {
			n++
		}
	}
	return n, err
}

func (c *Console) alertsPage(w http.ResponseWriter, r *http.Request) {
	c.showAlerts(w, r, nil)
}

// showAlerts renders the page, with refusal said on it when not nil.
func (c *Console) showAlerts(w http.ResponseWriter, r *http.Request, refusal error) {
	v := c.newView(r, "nav.alerts")
	d := alertsData{Closed: r.URL.Query().Get("all") == "1"}
	if v.User != nil {
		d.CanReview, d.CanEdit = v.User.Role.Can(staff.ManageOperators), v.User.Role.Can(staff.ManageCity) && c.Settings != nil
	}
	if c.Limits != nil {
		all, err := c.Limits.Store.Alerts(r.Context())
		if err != nil {
			c.fail(w, r, err)
			return
		}
		shops := map[string]string{}
		devices := map[string]*operators.Device{}
		reviews := map[string]*reviewRow{}
		for _, a := range all {
			if _, ok := shops[a.Shop]; !ok {
				shops[a.Shop] = a.Shop
				if o, err := c.Operators.Get(a.Shop); err == nil {
					shops[a.Shop] = o.DisplayName()
				}
			}
			if _, ok := devices[a.Device]; !ok {
				devices[a.Device], _ = c.Operators.Device(a.Device)
			}
			dev := devices[a.Device]
			row := alertRow{Alert: a, ShopName: shops[a.Shop], DeviceName: a.Device, Later: a.Updated.After(a.Raised)}
			if dev != nil {
				row.DeviceName = dev.Name
			}
			if a.Open() {
				rv := reviews[a.Device]
				if rv == nil {
					rv = &reviewRow{Key: a.Device, Name: row.DeviceName, ShopID: a.Shop, ShopName: shops[a.Shop]}
					if dev != nil {
						rv.Status = dev.Status
					}
					reviews[a.Device] = rv
					d.Reviews = append(d.Reviews, *rv)
				}
				rv.Alerts++
			}
			if a.Open() || d.Closed {
				d.Alerts = append(d.Alerts, row)
			}
		}
		for i := range d.Reviews {
			d.Reviews[i].Alerts = reviews[d.Reviews[i].Key].Alerts
		}
	}
	if c.Settings != nil {
		stored, err := c.Settings.Stored()
		if err != nil {
			c.fail(w, r, err)
			return
		}
		cur := stored.Effective(c.Settings.Defaults)
		for _, f := range limits.Fields() {
			d.Limits = append(d.Limits, limitRow{Name: f.Name, Value: cur.Limits.Get(f.Name), Default: f.Default, Set: stored.Limits.Get(f.Name) != 0})
		}
		for _, ch := range stored.History {
			if strings.HasPrefix(ch.What, "limit ") {
				d.History = append(d.History, ch)
			}
		}
		sort.SliceStable(d.History, func(i, j int) bool { return d.History[i].At.After(d.History[j].At) })
	}
	v.Data = d
	c.renderOr(w, r, "alerts", v, refusal)
}

// alertReview is staff's review of a device the limits flagged: its open
// alerts are closed with the reviewer and the note, and a device the
// limits suspended is reinstated, its history recording who and why. The
// note is required: it is what a later review reads.
func (c *Console) alertReview(w http.ResponseWriter, r *http.Request) {
	if c.Limits == nil {
		c.fail(w, r, refused(fault.NotFound, "no_limits"))
		return
	}
	key := r.PathValue("key")
	note := strings.TrimSpace(r.PostFormValue("note"))
	if note == "" {
		c.showAlerts(w, r, refused(fault.Invalid, "alert_note_required"))
		return
	}
	by := "staff:" + userOf(r)
	dev, err := c.Operators.Device(key)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if dev.Status == operators.DeviceSuspended {
		if _, err := c.Operators.ReinstateDevice(key, by, note); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	closed, err := c.Limits.Reinstate(r.Context(), key, by, note)
	if err != nil && !errors.Is(err, limits.ErrNotFound) {
		c.fail(w, r, err)
		return
	}
	c.log().Info("admin: device reviewed after the limits' alerts", "key_id", key, "alerts_closed", len(closed),
		"reinstated", dev.Status == operators.DeviceSuspended, "by", userOf(r), "note", note)
	redirect(w, r, "/admin/alerts", "reviewed")
}

// limitsSet changes the thresholds; a field left empty stays as it is.
func (c *Console) limitsSet(w http.ResponseWriter, r *http.Request) {
	if !c.haveSettings(w, r) {
		return
	}
	e := city.Edit{Limits: map[string]int{}}
	for _, f := range limits.Fields() {
		v := strings.TrimSpace(r.PostFormValue(f.Name))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			c.showAlerts(w, r, refused(fault.Invalid, "not_whole_number", f.Name, v))
			return
		}
		e.Limits[f.Name] = n
	}
	if len(e.Limits) == 0 {
		c.showAlerts(w, r, refused(fault.Invalid, "limits_unchanged"))
		return
	}
	if !c.applySettings(w, r, e, c.showAlerts) {
		return
	}
	c.log().Info("admin: limits changed", "by", userOf(r))
	redirect(w, r, "/admin/alerts", "limits")
}
