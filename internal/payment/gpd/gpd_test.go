package gpd_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/payment/gpd"
	"github.com/sportello/sportello/internal/payment/gpd/gpdtest"
)

var now = time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

const creditor = "01199250158"

func client(srv *gpdtest.Server, key string) *gpd.Client {
	return &gpd.Client{BaseURL: srv.URL, Key: key, CreditorCF: creditor, CompanyName: "Comune di Milano", SegregationCode: "07",
		IBAN: "IT60X0542811101000000123456", Category: "9/0101108TS/"}
}

func TestIUV(t *testing.T) {
	for range 50 {
		iuv, err := gpd.NewIUV(nil, "07")
		if err != nil {
			t.Fatal(err)
		}
		if len(iuv) != 17 || iuv[:2] != "07" || !gpd.ValidIUV(iuv) {
			t.Fatalf("IUV %q: want 17 digits, segregation code 07, valid check digits", iuv)
		}
		// One digit changed: the check digits no longer hold.
		bad := []byte(iuv)
		bad[5] = '0' + (bad[5]-'0'+1)%10
		if gpd.ValidIUV(string(bad)) {
			t.Fatalf("IUV %q with a digit changed still checks", bad)
		}
	}
	// 3 ‖ 07 ‖ 0000000000001 = 3070000000000001, mod 93 = 3070000000000001 - 93*33010752688172 = 5.
	if got := gpd.CheckDigits("3070000000000001"); got != "05" {
		t.Errorf("check digits %s, want 05", got)
	}
}

func TestPositionLifecycle(t *testing.T) {
	ctx := context.Background()
	srv := gpdtest.New("secret", creditor, clock)
	defer srv.Close()
	c := client(srv, "secret")
	pos, err := c.CreatePosition(ctx, payment.Position{AmountCents: 1852, Description: "Certificato anagrafico residenza", Due: now.Add(30 * time.Minute),
		DebtorCF: "RSSMRA50B17A558W", DebtorName: "Mario Rossi"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pos.NoticeNumber) != 18 || pos.NoticeNumber != "3"+pos.IUV || pos.CreditorCF != creditor || pos.IUPD == "" {
		t.Fatalf("position %+v", pos)
	}
	stored := srv.Position(pos.IUPD)
	if stored == nil || stored.Status != gpd.StatusValid || stored.PaymentOption[0].Amount != 1852 || stored.PaymentOption[0].Transfer[0].IBAN == "" || !stored.SwitchToExpired {
		t.Fatalf("stored at GPD: %+v", stored)
	}
	st, err := c.PositionStatus(ctx, pos.IUPD)
	if err != nil || st.Paid || st.Closed || st.Status != gpd.StatusValid {
		t.Fatalf("status before paying: %+v %v", st, err)
	}
	paidAt := now.Add(5 * time.Minute)
	if !srv.Pay(pos.NoticeNumber, paidAt) {
		t.Fatal("the notice could not be paid")
	}
	st, err = c.PositionStatus(ctx, pos.IUPD)
	if err != nil || !st.Paid || !st.PaidAt.Equal(paidAt) || st.Receipt == "" {
		t.Fatalf("status once paid: %+v %v", st, err)
	}
	// A paid position cannot be invalidated.
	if err := c.CancelPosition(ctx, pos.IUPD); !errors.Is(err, payment.ErrTransition) {
		t.Errorf("invalidate a paid position: %v, want ErrTransition", err)
	}

	// Another, given up: invalidated, it can no longer be paid.
	pos2, err := c.CreatePosition(ctx, payment.Position{AmountCents: 100, Description: "x", Due: now.Add(time.Hour), DebtorCF: "RSSMRA50B17A558W", DebtorName: "Mario Rossi"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CancelPosition(ctx, pos2.IUPD); err != nil {
		t.Fatal(err)
	}
	if srv.Pay(pos2.NoticeNumber, now) {
		t.Error("an invalidated notice was paid")
	}
	if st, _ := c.PositionStatus(ctx, pos2.IUPD); !st.Closed || st.Paid {
		t.Errorf("invalidated: %+v", st)
	}
}

func TestServiceRefusalsAndOutage(t *testing.T) {
	ctx := context.Background()
	srv := gpdtest.New("secret", creditor, clock)
	defer srv.Close()
	order := payment.Position{AmountCents: 1852, Description: "Certificato", Due: now.Add(30 * time.Minute), DebtorCF: "RSSMRA50B17A558W", DebtorName: "Mario Rossi"}

	_, err := client(srv, "wrong").CreatePosition(ctx, order)
	var ge *gpd.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusUnauthorized || errors.Is(err, payment.ErrServiceDown) {
		t.Errorf("wrong key: %v, want GPD's 401", err)
	}
	other := client(srv, "secret")
	other.CreditorCF = "80012345678"
	if _, err := other.CreatePosition(ctx, order); !errors.As(err, &ge) || ge.Status != http.StatusForbidden {
		t.Errorf("another creditor: %v, want 403", err)
	}
	// The server checks the body as GPD does: a due date already past.
	past := order
	past.Due = now.Add(-time.Minute)
	if _, err := client(srv, "secret").CreatePosition(ctx, past); !errors.As(err, &ge) || ge.Status != http.StatusBadRequest {
		t.Errorf("due date past: %v, want 400", err)
	}

	srv.SetDown(true)
	if _, err := client(srv, "secret").CreatePosition(ctx, order); !errors.Is(err, payment.ErrServiceDown) {
		t.Errorf("service down, create: %v", err)
	}
	if _, err := client(srv, "secret").PositionStatus(ctx, "x"); !errors.Is(err, payment.ErrServiceDown) {
		t.Errorf("service down, status: %v", err)
	}
	srv.Close()
	if _, err := client(srv, "secret").CreatePosition(ctx, order); !errors.Is(err, payment.ErrServiceDown) {
		t.Errorf("service unreachable: %v", err)
	}
}
