package ui

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/sportello/sportello/internal/kiosk"
)

// asideOutbox is the test outbox holding sales set aside for the operator.
type asideOutbox struct {
	*outbox
	aside int
}

func (o *asideOutbox) SetAside() (int, error) { return o.aside, nil }

// TestStatusBarShowsSalesSetAside: a sale the hub refused, or failed on
// again and again, is set aside out of the queue; the status bar says how
// many wait for the operator and where to see them, in their language.
func TestStatusBarShowsSalesSetAside(t *testing.T) {
	a := test.NewTempApp(t)
	h := &hub{}
	ob := &asideOutbox{outbox: &outbox{hub: h}}
	f, err := kiosk.New(kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola Centrale"},
		kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: ob, Clock: &clock{now}})
	if err != nil {
		t.Fatal(err)
	}
	u := New(a, f, catalog(t))
	w := test.NewTempWindow(t, u.Content())
	w.Resize(fyne.NewSize(1024, 720))
	f.RefreshStatus(context.Background())
	if hasText(u.Content(), "messe da parte") {
		t.Fatal("set-aside sales shown when there are none")
	}
	ob.aside = 2
	if st := f.RefreshStatus(context.Background()); st.SetAside != 2 {
		t.Fatalf("status %+v, want 2 set aside", st)
	}
	if !hasText(u.Content(), "messe da parte: 2 (kiosk outbox list)") {
		t.Error("the status bar does not show the sales set aside")
	}
}
