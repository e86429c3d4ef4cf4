package kiosk

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/printer/receipt"
)

// queueOne confirms a reviewed residenza with the hub offline and returns
// the claim code.
func queueOne(t *testing.T, r *rig) string {
	t.Helper()
	r.flow.Next()
	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	r.hub.offline = true
	defer func() { r.hub.offline = false }()
	if err := r.flow.Confirm(ctx); err != nil && !errors.As(err, new(*Problem)) {
		t.Fatal(err)
	}
	v := r.flow.View()
	if v.Result == nil || v.Result.Claim == "" {
		t.Fatalf("not queued: %+v, problem %v", v.Result, v.Problem)
	}
	return v.Result.Claim
}

func TestClaimReceiptPrinted(t *testing.T) {
	tests := []struct {
		name     string
		lang     Lang
		claimErr error
		wantKey  string // the problem shown, "" for none
	}{
		{"printed in Italian", Italian, nil, ""},
		{"printed in English", English, nil, ""},
		{"printer out of paper", Italian, errors.New("paper out"), "print_claim_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, Operator)
			r.prn.claimErr = tt.claimErr
			login(r)
			r.flow.SetLang(tt.lang)
			if err := r.flow.TapCard(ctx); err != nil {
				t.Fatal(err)
			}
			c := Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.StatoDiFamiglia, certificate.Residenza}, Exemption: fees.Exemption{Code: 9}}
			if err := r.flow.Choose(c); err != nil {
				t.Fatal(err)
			}
			preview := r.flow.View().Preview
			r.hub.offline = true
			err := r.flow.Confirm(ctx)
			r.step(t, StepDone)
			v := r.flow.View()
			if v.Result == nil || v.Result.Claim != "CLAIM1" || len(r.out.queued) != 1 {
				t.Fatalf("result %+v, queued %d", v.Result, len(r.out.queued))
			}
			var p *Problem
			if tt.wantKey != "" {
				if !errors.As(err, &p) || p.Key != tt.wantKey || v.Problem == nil || v.Problem.Args[0] != "CLAIM1" {
					t.Fatalf("Confirm = %v, view problem %v; want %s naming the code", err, v.Problem, tt.wantKey)
				}
				// Once the paper is back, Reprint prints the claim receipt.
				r.prn.claimErr = nil
				if err := r.flow.Reprint(ctx); err != nil {
					t.Fatal(err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(r.prn.claims) != 1 || len(r.prn.a4) != 0 || len(r.prn.receipts) != 0 {
				t.Fatalf("printed %d claim receipts, %d A4, %d receipts; want one claim receipt only", len(r.prn.claims), len(r.prn.a4), len(r.prn.receipts))
			}
			cr := r.prn.claims[0]
			if cr.Code != "CLAIM1" || cr.Shop != "Edicola Centrale" || cr.OperatorID != "op-1" || !cr.Time.Equal(testNow) ||
				cr.Lang != receipt.Lang(tt.lang) || !slices.Equal(cr.Types, []string{"residenza", "stato_di_famiglia"}) {
				t.Errorf("claim receipt %+v", cr)
			}
			if cr.Total() != preview.TotalCents || cr.TotalCents != preview.TotalCents || len(cr.Fees) != len(preview.Lines) || cr.Fees[0].Kind != receipt.Exemption {
				t.Errorf("claim receipt fees %+v total %d, preview %+v", cr.Fees, cr.Total(), preview)
			}
			if tt.wantKey == "" {
				if err := r.flow.Reprint(ctx); err != nil || len(r.prn.claims) != 2 || r.prn.claims[1].Code != "CLAIM1" {
					t.Errorf("reprint: %v, %d claim receipts", err, len(r.prn.claims))
				}
			}
		})
	}
}

func TestRedeem(t *testing.T) {
	queuedAt := testNow.Add(-3 * time.Hour)
	issued := &Issued{ID: "id7", Protocol: "2026/0000007", Types: []string{"residenza"},
		Fees: []fees.Line{{Kind: fees.Bollo, Cents: 1600}, {Kind: fees.Diritti, Cents: 52}, {Kind: fees.Service, Cents: 150}}, TotalCents: 1802,
		VerifyURL: "https://hub.example/v/id7", Issued: testNow.Add(-time.Hour)}
	tests := []struct {
		name     string
		code     string
		claim    *Claimed // what the outbox knows of code; nil: nothing
		pdfFails bool
		step     Step
		wantKey  string // problem key
		printed  bool   // certificate and receipt printed
		settled  string // the journal's settlement: protocol or refusal reason
	}{
		{"issued: printed again", "AAA-BBB-CCC", &Claimed{State: ClaimIssued, Queued: queuedAt, Settled: testNow.Add(-time.Hour), Issued: issued}, false, StepDone, "", true, "2026/0000007"},
		{"issued, the hub unreachable for the PDF", "AAA-BBB-CCC", &Claimed{State: ClaimIssued, Issued: issued}, true, StepDone, "pdf_unavailable", false, "2026/0000007"},
		{"issued before kiosks kept the id", "AAA-BBB-CCC", &Claimed{State: ClaimIssued, Issued: &Issued{Protocol: "2026/0000003"}}, false, StepClaim, "", false, "2026/0000003"},
		{"still queued", "AAA-BBB-CCC", &Claimed{State: ClaimQueued, Queued: queuedAt, Attempts: 4, LastError: "connection refused"}, false, StepClaim, "", false, ""},
		{"refused", "AAA-BBB-CCC", &Claimed{State: ClaimRefused, Queued: queuedAt, Reason: "not_resident", Message: "the subject is not resident", AmountCents: 1802}, false, StepClaim, "", false, "not_resident"},
		{"unknown code", "ZZZ-ZZZ-ZZZ", nil, false, StepIdentify, "claim_unknown", false, ""},
		{"mistyped code", "???", nil, false, StepIdentify, "claim_invalid", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, Operator)
			login(r)
			if tt.claim != nil {
				r.out.settle(tt.code, *tt.claim)
			}
			r.hub.pdfFails = tt.pdfFails
			err := r.flow.Redeem(ctx, tt.code)
			r.step(t, tt.step)
			v := r.flow.View()
			var p *Problem
			switch {
			case tt.wantKey == "" && err != nil:
				t.Fatalf("Redeem: %v", err)
			case tt.wantKey != "" && (!errors.As(err, &p) || p.Key != tt.wantKey):
				t.Fatalf("Redeem = %v, want problem %s", err, tt.wantKey)
			}
			if got := len(r.prn.a4) == 1 && len(r.prn.receipts) == 1; got != tt.printed {
				t.Errorf("printed %d A4 and %d receipts, want printed=%v", len(r.prn.a4), len(r.prn.receipts), tt.printed)
			}
			if tt.printed {
				rc := r.prn.receipts[0]
				if rc.Certificates[0].Protocol != issued.Protocol || rc.Total() != issued.TotalCents || rc.VerifyURL != issued.VerifyURL {
					t.Errorf("receipt %+v", rc)
				}
				if v.Result == nil || v.Result.Issued == nil || v.Result.Issued.Protocol != issued.Protocol {
					t.Errorf("done screen result %+v", v.Result)
				}
			}
			if tt.step == StepClaim && (v.Claimed == nil || v.Claimed.State != tt.claim.State || v.Claimed.Code != tt.code) {
				t.Errorf("claim screen shows %+v", v.Claimed)
			}
			if len(r.out.queued) != 0 || len(r.hub.issued) != 0 {
				t.Error("redeeming asked the hub to issue again")
			}
			var got string
			sales, _ := r.journal.Since(time.Time{})
			for _, s := range sales {
				if s.Settles == tt.code {
					got = s.Protocol + s.Refused
				}
			}
			if got != tt.settled {
				t.Errorf("journal settlement %q, want %q", got, tt.settled)
			}
			if tt.step == StepClaim {
				if err := r.flow.Back(); err != nil {
					t.Fatal(err)
				}
				r.step(t, StepIdentify)
			}
		})
	}
	t.Run("not in self-service", func(t *testing.T) {
		r := newRig(t, SelfService)
		if err := r.flow.Redeem(ctx, "AAA-BBB-CCC"); err == nil {
			t.Error("self-service redeemed a claim code")
		}
	})
}

// TestSummarySettles: queued sales count as issued once the hub issued
// them, with the hub's protocol and fees; refused ones are not charged;
// what the app missed is read from the outbox and written to the journal
// once.
func TestSummarySettles(t *testing.T) {
	r := newRig(t, Operator)
	login(r)
	codes := []string{queueOne(t, r), queueOne(t, r), queueOne(t, r)}
	r.flow.Next()
	// One sale online, for comparison.
	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}})
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	online := r.flow.View().Result.Issued
	r.flow.Next()
	if s, _ := r.flow.Summary(); s.Queued != 3 || s.QueuedCents != 3*online.TotalCents || s.Certificates != 1 || s.Collected != 4*online.TotalCents {
		t.Fatalf("before delivery: %+v", s)
	}

	// The sender tells the flow of the first; the second is refused while
	// the app was closed; the third still waits.
	r.clock.Add(time.Hour)
	delivered := &Issued{ID: "id9", Protocol: "2026/0000009", Types: []string{"residenza"},
		Fees: []fees.Line{{Kind: fees.Bollo, Cents: 1600}, {Kind: fees.Diritti, Cents: 52}, {Kind: fees.Service, Cents: 150}}, TotalCents: 1802}
	r.out.settle(codes[0], Claimed{State: ClaimIssued, Settled: r.clock.Now(), Issued: delivered})
	r.flow.Settle(Claimed{Code: codes[0], State: ClaimIssued, Settled: r.clock.Now(), Issued: delivered})
	r.out.settle(codes[1], Claimed{State: ClaimRefused, Settled: r.clock.Now(), Reason: "not_resident"})

	for i := 0; i < 2; i++ { // a second summary finds nothing new to write
		s, err := r.flow.Summary()
		if err != nil {
			t.Fatal(err)
		}
		want := Summary{Transactions: 4, Certificates: 2, Queued: 1, Refused: 1, QueuedCents: online.TotalCents, RefusedCents: online.TotalCents,
			Collected: online.TotalCents + delivered.TotalCents + online.TotalCents, State: 3200, City: 104, Shop: 300}
		if s.Transactions != want.Transactions || s.Certificates != want.Certificates || s.Queued != want.Queued || s.Refused != want.Refused ||
			s.QueuedCents != want.QueuedCents || s.RefusedCents != want.RefusedCents || s.Collected != want.Collected ||
			s.State != want.State || s.City != want.City || s.Shop != want.Shop {
			t.Fatalf("pass %d: summary\n %+v, want\n %+v", i, s, want)
		}
		if s.State+s.City+s.Shop+s.QueuedCents != s.Collected {
			t.Errorf("shares and queued money %d+%d+%d+%d do not add up to %d", s.State, s.City, s.Shop, s.QueuedCents, s.Collected)
		}
		if !slices.Contains(s.Protocols, delivered.Protocol) || !slices.Contains(s.Protocols, online.Protocol) || len(s.Protocols) != 2 {
			t.Errorf("protocols %v", s.Protocols)
		}
	}
	sales, _ := r.journal.Since(time.Time{})
	n := map[string]int{}
	for _, s := range sales {
		if s.Settles != "" {
			n[s.Settles]++
		}
	}
	if n[codes[0]] != 1 || n[codes[1]] != 1 || n[codes[2]] != 0 {
		t.Errorf("settlements in the journal: %v", n)
	}
}

func TestSummarise(t *testing.T) {
	day := startOfDay(testNow)
	sale := func(claim, protocol string, cents int64) Sale {
		return Sale{Time: testNow, Claim: claim, Protocol: protocol, Types: []string{"residenza"},
			Fees: []fees.Line{{Kind: fees.Bollo, Cents: cents}}, Total: cents}
	}
	settle := func(claim, protocol, refused string) Sale {
		s := Sale{Time: testNow, Settles: claim, Protocol: protocol, Refused: refused}
		if protocol != "" {
			s.Types, s.Fees, s.Total = []string{"residenza"}, []fees.Line{{Kind: fees.Bollo, Cents: 1600}}, 1600
		}
		return s
	}
	tests := []struct {
		name                                       string
		sales                                      []Sale
		transactions, certs, queued, refused       int
		collected, queuedCents, refundCents, bollo int64
	}{
		{"online sale", []Sale{sale("", "P1", 1600)}, 1, 1, 0, 0, 1600, 0, 0, 1600},
		{"queued", []Sale{sale("C1", "", 1600)}, 1, 0, 1, 0, 1600, 1600, 0, 0},
		{"queued then issued", []Sale{sale("C1", "", 1600), settle("C1", "P2", "")}, 1, 1, 0, 0, 1600, 0, 0, 1600},
		{"settlement before its sale in the list", []Sale{settle("C1", "P2", ""), sale("C1", "", 1600)}, 1, 1, 0, 0, 1600, 0, 0, 1600},
		{"queued then refused", []Sale{sale("C1", "", 1600), settle("C1", "", "not_resident")}, 1, 0, 0, 1, 0, 0, 1600, 0},
		{"settled twice: the first counts", []Sale{sale("C1", "", 1600), settle("C1", "P2", ""), settle("C1", "", "late")}, 1, 1, 0, 0, 1600, 0, 0, 1600},
		{"a settlement of an earlier day's sale", []Sale{settle("C0", "P0", "")}, 0, 0, 0, 0, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summarise(day, tt.sales)
			got := fmt.Sprint(s.Transactions, s.Certificates, s.Queued, s.Refused, s.Collected, s.QueuedCents, s.RefusedCents, s.State)
			want := fmt.Sprint(tt.transactions, tt.certs, tt.queued, tt.refused, tt.collected, tt.queuedCents, tt.refundCents, tt.bollo)
			if got != want {
				t.Errorf("transactions certs queued refused collected queued¢ refund¢ bollo = %s, want %s", got, want)
			}
		})
	}
}
