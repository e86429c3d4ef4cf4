package admin

import (
	"net/http"
	"slices"

	"github.com/sportello/sportello/internal/notify"
)

// NoticeList is the citizens' notification queue as staff see it.
type NoticeList interface {
	List() ([]notify.Item, error)
}

// noticeRow is one channel's delivery of one notification.
type noticeRow struct {
	ID       string
	Item     notify.Item
	Channel  string
	Delivery notify.Delivery
}

type noticesData struct {
	Rows                  []noticeRow
	Failed, Pending, Sent int
	Off                   bool
}

// noticesPage lists the notifications to citizens and how each channel's
// delivery stands: those refused for good (a 4xx from App IO, a 5xx reply
// from the mail server) first, since only staff can act on them. It shows
// the certificate each is about, not the citizen's codice fiscale: no
// registry data is read here.
func (c *Console) noticesPage(w http.ResponseWriter, r *http.Request) {
	v := c.newView(r, "nav.notices")
	d := &noticesData{Off: c.Notices == nil}
	if c.Notices != nil {
		items, err := c.Notices.List()
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, it := range items {
			chans := make([]string, 0, len(it.Deliveries))
			for ch := range it.Deliveries {
				chans = append(chans, ch)
			}
			slices.Sort(chans)
			if len(chans) == 0 {
				d.Rows = append(d.Rows, noticeRow{ID: it.ID, Item: it, Channel: "—", Delivery: notify.Delivery{State: notify.Pending}})
			}
			for _, ch := range chans {
				d.Rows = append(d.Rows, noticeRow{ID: it.ID, Item: it, Channel: ch, Delivery: it.Deliveries[ch]})
			}
		}
		rank := map[notify.State]int{notify.Failed: 0, notify.Sending: 1, notify.Pending: 1}
		slices.SortStableFunc(d.Rows, func(a, b noticeRow) int {
			ra, ok := rank[a.Delivery.State]
			if !ok {
				ra = 2
			}
			rb, ok := rank[b.Delivery.State]
			if !ok {
				rb = 2
			}
			return ra - rb
		})
		for _, row := range d.Rows {
			switch row.Delivery.State {
			case notify.Failed:
				d.Failed++
			case notify.Sent:
				d.Sent++
			case notify.Pending, notify.Sending:
				d.Pending++
			}
		}
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "notices", v)
}
