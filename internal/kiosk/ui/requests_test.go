package ui

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/request"
)

// FileRequest files like the hub: a street not in the city's list is
// refused with the hub's reason.
func (h *hub) FileRequest(_ context.Context, req api.RequestFiling) (*api.Request, error) {
	if a := req.Form.Address; a != nil && a.NewAddress.Street != "VIA ROMA" {
		return nil, &kiosk.Refusal{Status: http.StatusUnprocessableEntity, Reason: request.ReasonAddressUnknown, Message: "la via non è nello stradario"}
	}
	h.filed = append(h.filed, req)
	k := request.Kind(req.Kind)
	return &api.Request{ID: "rq-1", Kind: req.Kind, Title: k.Title(), Protocol: "2026/0001234", Filed: time.Date(2026, 11, 23, 10, 31, 0, 0, time.UTC),
		Status: string(request.Filed), StatusText: request.Filed.Italian(), RequesterCF: "RSSMRA50B17A558W"}, nil
}

// The request form after CIE and PIN, and the receipt at a counter in
// English.
func TestRequestsScreens(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		mode  kiosk.Mode
		steps func(f *kiosk.Flow) error
	}{
		{"selfservice_requests_it", kiosk.SelfService, func(f *kiosk.Flow) error {
			pinned(f)
			f.ShowDossier(ctx)
			return f.ShowRequests(ctx)
		}},
		{"operator_request_filed_en", kiosk.Operator, func(f *kiosk.Flow) error {
			loggedIn(f)
			f.SetLang(kiosk.English)
			f.TapCard(ctx)
			f.ShowRequests(ctx)
			return f.FileRequest(ctx, kiosk.RequestDraft{Kind: request.Historical, What: kiosk.HistoricalResidence, Purpose: "pensione"})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			f := newFlow(t, tt.mode, &hub{})
			u := New(a, f, catalog(t))
			w := test.NewTempWindow(t, u.Content())
			w.Resize(fyne.NewSize(1024, 720))
			if err := tt.steps(f); err != nil {
				t.Fatal(err)
			}
			f.RefreshStatus(ctx)
			golden(t, w, tt.name)
		})
	}
}

func findRadio(o fyne.CanvasObject, option string) *widget.RadioGroup {
	var found *widget.RadioGroup
	walk(o, func(o fyne.CanvasObject) {
		if g, ok := o.(*widget.RadioGroup); ok && slices.Contains(g.Options, option) {
			found = g
		}
	})
	return found
}

// TestRequestsByTaps goes from the dossier to the request form, files a
// change of address with a street the city lacks (the hub's refusal is
// shown in Italian and the form keeps what was typed), then with the
// right one, and shows the receipt with the protocol number; then a
// historical certificate of the family on a date typed the Italian way.
func TestRequestsByTaps(t *testing.T) {
	ctx := context.Background()
	a := test.NewTempApp(t)
	h := &hub{}
	f := newFlow(t, kiosk.SelfService, h)
	cat := catalog(t)
	u := New(a, f, cat)
	u.spawn = inline
	test.NewTempWindow(t, u.Content())
	pinned(f)
	f.ShowDossier(ctx)
	T := func(key string, args ...any) string { return cat.T(kiosk.Italian, key, args...) }
	test.Tap(findButton(u.Content(), T("requests_button")))
	if v := f.View(); v.Step != kiosk.StepRequests {
		t.Fatalf("after the requests button: step %s, problem %v", v.Step, v.Problem)
	}
	kinds := findRadio(u.Content(), T("request_kind_cambio_indirizzo"))
	if kinds == nil {
		t.Fatal("no choice of the kind")
	}
	for _, k := range []string{"dat", "rettifica_dati", "cambio_residenza", "convivenza_di_fatto"} {
		if slices.Contains(kinds.Options, T("request_kind_"+k)) {
			t.Errorf("the kiosk offers %s, which it cannot take", k)
		}
	}
	if !hasTextDeep(u.Content(), T("requests_not_here")) {
		t.Error("the screen does not say which requests are filed at the Comune")
	}
	r := u.req
	test.Type(r.street, "VIA ROMAA")
	test.Type(r.number, "12")
	test.Tap(r.statement)
	file := findButton(u.Content(), T("requests_file_button"))
	test.Tap(file)
	if p := f.View().Problem; p == nil || p.Key != "hub_"+request.ReasonAddressUnknown || len(h.filed) != 0 {
		t.Fatalf("an unknown street: problem %v, filed %d", p, len(h.filed))
	}
	if u.banner.Text() != T("hub_"+request.ReasonAddressUnknown) {
		t.Error("the refusal's sentence is not on the screen")
	}
	if r.street.Text != "VIA ROMAA" || r.number.Text != "12" || !r.statement.Checked {
		t.Fatalf("the refusal lost what was typed: %q %q %v", r.street.Text, r.number.Text, r.statement.Checked)
	}
	r.street.SetText("VIA ROMA")
	test.Tap(file)
	if len(h.filed) != 1 {
		t.Fatalf("filed %d, problem %v", len(h.filed), f.View().Problem)
	}
	g := h.filed[0]
	if g.Kind != "cambio_indirizzo" || g.Channel != "self_service" || g.Requester == nil || !g.Requester.PINProved || g.IdempotencyKey == "" ||
		g.Form.Address == nil || !slices.Equal(g.Form.Address.Persons, []string{"RSSMRA50B17A558W"}) || g.Form.Address.NewAddress.Number != "12" || !g.Form.Address.Statement {
		t.Errorf("the hub was asked %+v", g)
	}
	if v := f.View(); v.Step != kiosk.StepRequestFiled || u.banner.Visible() || !hasTextDeep(u.Content(), T("requests_filed_protocol", "2026/0001234", "23/11/2026 11:31")) {
		t.Fatalf("after filing: step %s, the protocol not shown", v.Step)
	}
	test.Tap(findButton(u.Content(), T("requests_another")))
	r = u.req
	if r.street.Text != "" {
		t.Error("another request starts from the last one's form")
	}
	r.kind.SetSelected(T("request_kind_certificato_storico"))
	r.what.SetSelected(T("requests_what_stato_di_famiglia"))
	test.Type(r.date, "31/02/1990")
	test.Type(r.purpose, "successione")
	file = findButton(u.Content(), T("requests_file_button"))
	test.Tap(file)
	if p := f.View().Problem; p == nil || p.Key != "requests_date_invalid" || len(h.filed) != 1 {
		t.Fatalf("a wrong date: problem %v, filed %d", p, len(h.filed))
	}
	r.date.SetText("01/03/1990")
	test.Tap(file)
	if len(h.filed) != 2 {
		t.Fatalf("filed %d, problem %v", len(h.filed), f.View().Problem)
	}
	if hf := h.filed[1].Form.Historical; hf == nil || hf.What != "stato_di_famiglia" || hf.Date != "1990-03-01" || hf.Purpose != "successione" || hf.SubjectCF != "RSSMRA50B17A558W" {
		t.Errorf("the historical form sent: %+v", h.filed[1].Form)
	}
	test.Tap(findButton(u.Content(), T("back_button")))
	if v := f.View(); v.Step != kiosk.StepChoose {
		t.Errorf("back from the receipt: %s", v.Step)
	}
}
