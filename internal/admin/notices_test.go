package admin

import (
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/store/bolt/notifybolt"
)

// Staff see each notification's deliveries, the ones refused for good first
// with the server's reason, and no citizen's codice fiscale; with no queue
// the page says notifications are off.
func TestNoticesPage(t *testing.T) {
	f := newFixture(t)
	c, _ := f.login(t, "admin")
	if _, body := get(t, c, f.srv.URL+"/admin/notices"); !strings.Contains(body, "Le notifiche ai cittadini sono spente") {
		t.Fatalf("notifications off not said:\n%s", body)
	}
	q, err := notifybolt.New(f.db)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	for _, id := range []string{"cert-sent", "cert-refused", "cert-waiting"} {
		is := notify.Issued{CertificateID: id, Protocol: "2026/0000001", Title: "Certificato di residenza", Issued: at,
			SubjectCF: f.cf, RequesterName: "ROSSI ANNA", Place: "Edicola Test"}
		if err := f.db.Update(func(tx *bbolt.Tx) error { return q.Enqueue(tx, is.Item(at)) }); err != nil {
			t.Fatal(err)
		}
	}
	q.Mark("cert-sent", "appio", notify.Delivery{State: notify.Sent, Attempts: 1, Receipt: "01MSG", SentAt: at})
	q.Mark("cert-refused", "appio", notify.Delivery{State: notify.Failed, Attempts: 2,
		LastError: "App IO /api/v1/messages: the server refused the message permanently (400): Invalid subject"})
	q.Mark("cert-waiting", "email", notify.Delivery{State: notify.Pending, Attempts: 1, NextAt: at.Add(time.Hour), LastError: "451 try later"})
	f.con.Notices = q

	_, body := get(t, c, f.srv.URL+"/admin/notices")
	for _, want := range []string{"Rifiutate definitivamente: <strong>1</strong>", "In attesa: <strong>1</strong>", "Consegnate: <strong>1</strong>",
		"Invalid subject", "01MSG", "prossimo tentativo", "non viene più ritentata"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if i, j := strings.Index(body, "cert-refused"), strings.Index(body, "cert-sent"); i < 0 || j < 0 || i > j {
		t.Errorf("the refused notification is not listed first")
	}
	if strings.Contains(body, f.cf) {
		t.Error("the page shows a citizen's codice fiscale")
	}
	if _, body := get(t, c, f.srv.URL+"/admin/notices?lang=en"); !strings.Contains(body, "refused for good") {
		t.Error("no English page")
	}
}
