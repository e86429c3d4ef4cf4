// Package gpd is the hub's client of PagoPA's "Gestione Posizioni
// Debitorie" (GPD), the creditor-institution API through which a comune
// opens the debt positions citizens pay with an avviso di pagamento
// pagoPA, and learns when they are paid. It implements payment.Gateway.
//
// The shapes follow GPD's published OpenAPI, "PagoPA API Debt Position"
// 1.0.0 (https://github.com/pagopa/pagopa-api, openapi/gpd.json; servers
// https://api.platform.pagopa.it/gpd/debt-positions-service/v1/, UAT
// https://api.uat.platform.pagopa.it/gpd/debt-positions-service/v1/):
//
//	POST /organizations/{organizationfiscalcode}/debtpositions?toPublish=true   createPosition, 201 PaymentPositionModel
//	GET  /organizations/{organizationfiscalcode}/debtpositions/{iupd}           getOrganizationDebtPositionByIUPD, 200 PaymentPositionModelBaseResponse
//	POST /organizations/{organizationfiscalcode}/debtpositions/{iupd}/invalidate  invalidatePosition
//
// every call with the creditor's API key in Ocp-Apim-Subscription-Key
// (security scheme ApiKey). Amounts are euro cents (int64, minimum 1).
//
// The IUV is the creditor's to generate (SACI, "Generazione
// dell'Identificativo Univoco di Versamento",
// https://docs.pagopa.it/saci/specifiche-attuative-dei-codici-identificativi-di-versamento-riversamento-e-rendicontazione/generazione-dellidentificativo-univoco-di-versamento):
// with aux digit 3 the IUV is the segregation code (2 digits, assigned by
// PagoPA to each point that generates IUVs), an IUV base of 13 digits and
// 2 check digits, the remainder modulo 93 of the number aux digit ‖
// segregation code ‖ IUV base; the notice number (codice avviso) is the
// aux digit followed by the IUV, 18 digits.
package gpd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/payment"
)

// KeyHeader carries the creditor's API key (GPD's ApiKey security scheme).
const KeyHeader = "Ocp-Apim-Subscription-Key"

// AuxDigit is the notice number's first digit for a creditor whose IUVs
// are generated at several points, each with its segregation code.
const AuxDigit = "3"

// Client talks to GPD for one creditor institution.
type Client struct {
	// BaseURL is the service root, e.g.
	// https://api.platform.pagopa.it/gpd/debt-positions-service/v1.
	BaseURL string
	Key     string
	// CreditorCF is the comune's codice fiscale (organizationfiscalcode),
	// CompanyName its name as the notice shows it.
	CreditorCF, CompanyName string
	// SegregationCode is the two digits PagoPA assigned to the hub as a
	// point that generates IUVs.
	SegregationCode string
	// IBAN is the account the money goes to (transfer iban); Category
	// the transfer's taxonomy code (tassonomia dei servizi di incasso).
	IBAN, Category string
	HTTP           *http.Client // nil: a client with a 15 s timeout
	Rand           io.Reader    // IUVs and IUPDs; crypto/rand when nil
}

var _ payment.Gateway = (*Client)(nil)

// Creditor implements payment.Gateway.
func (c *Client) Creditor() string { return c.CreditorCF }

// Check says what of the configuration is missing or malformed.
func (c *Client) Check() error {
	switch {
	case c.BaseURL == "":
		return errors.New("the GPD service has no URL")
	case c.Key == "":
		return errors.New("the GPD service has no API key")
	case len(c.CreditorCF) != 11 || strings.Trim(c.CreditorCF, "0123456789") != "":
		return fmt.Errorf("the creditor's codice fiscale %q is not 11 digits", c.CreditorCF)
	case len(c.SegregationCode) != 2 || strings.Trim(c.SegregationCode, "0123456789") != "":
		return fmt.Errorf("the segregation code %q is not 2 digits", c.SegregationCode)
	case c.IBAN == "":
		return errors.New("the GPD transfer has no IBAN")
	case c.Category == "":
		return errors.New("the GPD transfer has no taxonomy category")
	}
	return nil
}

// PaymentPosition is GPD's PaymentPositionModel (request and 201 answer),
// with the fields the hub sends or reads.
type PaymentPosition struct {
	IUPD            string          `json:"iupd"`
	Type            string          `json:"type"` // F: natural person, G: legal person
	FiscalCode      string          `json:"fiscalCode"`
	FullName        string          `json:"fullName"`
	SwitchToExpired bool            `json:"switchToExpired"`
	CompanyName     string          `json:"companyName"`
	OfficeName      string          `json:"officeName,omitempty"`
	ValidityDate    *time.Time      `json:"validityDate,omitempty"`
	PaymentDate     *time.Time      `json:"paymentDate,omitempty"`
	Status          string          `json:"status,omitempty"`
	PaymentOption   []PaymentOption `json:"paymentOption"`
}

// PaymentOption is GPD's PaymentOptionModel and, read back,
// PaymentOptionModelResponse.
type PaymentOption struct {
	NAV              string     `json:"nav,omitempty"`
	IUV              string     `json:"iuv"`
	Amount           int64      `json:"amount"`
	Description      string     `json:"description"`
	IsPartialPayment bool       `json:"isPartialPayment"`
	DueDate          time.Time  `json:"dueDate"`
	RetentionDate    *time.Time `json:"retentionDate,omitempty"`
	Transfer         []Transfer `json:"transfer"`
	// In the answer of getOrganizationDebtPositionByIUPD only.
	PaymentDate *time.Time `json:"paymentDate,omitempty"`
	IDReceipt   string     `json:"idReceipt,omitempty"`
	Status      string     `json:"status,omitempty"` // PO_UNPAID, PO_PAID, …
}

// Transfer is GPD's TransferModel.
type Transfer struct {
	IDTransfer             string `json:"idTransfer"` // "1" … "5"
	Amount                 int64  `json:"amount"`
	OrganizationFiscalCode string `json:"organizationFiscalCode,omitempty"`
	RemittanceInformation  string `json:"remittanceInformation"`
	Category               string `json:"category"`
	IBAN                   string `json:"iban,omitempty"`
}

// ProblemJSON is GPD's ProblemJson.
type ProblemJSON struct {
	Title  string `json:"title,omitempty"`
	Status int    `json:"status,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Position statuses (PaymentPositionModel.status).
const (
	StatusDraft         = "DRAFT"
	StatusPublished     = "PUBLISHED"
	StatusValid         = "VALID"
	StatusInvalid       = "INVALID"
	StatusExpired       = "EXPIRED"
	StatusPartiallyPaid = "PARTIALLY_PAID"
	StatusPaid          = "PAID"
	StatusReported      = "REPORTED"
)

// Error is an answer of GPD that is not a success, nor the service being
// down.
type Error struct {
	Status  int
	Problem ProblemJSON
}

func (e *Error) Error() string {
	msg := e.Problem.Detail
	if msg == "" {
		msg = e.Problem.Title
	}
	return fmt.Sprintf("the pagoPA debt-position service answered %d: %s", e.Status, msg)
}

// NewIUV draws an IUV of aux digit 3 for segregation code seg.
func NewIUV(r io.Reader, seg string) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	n, err := rand.Int(r, big.NewInt(1e13))
	if err != nil {
		return "", fmt.Errorf("cannot draw an IUV: %w", err)
	}
	base := fmt.Sprintf("%013d", n)
	return seg + base + CheckDigits(AuxDigit+seg+base), nil
}

// CheckDigits are the IUV's two check digits over digits (aux digit ‖
// segregation code ‖ IUV base): their value modulo 93, on two digits.
func CheckDigits(digits string) string {
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return "??"
	}
	return fmt.Sprintf("%02d", new(big.Int).Mod(n, big.NewInt(93)))
}

// ValidIUV says whether iuv is an aux-digit-3 IUV whose check digits hold.
func ValidIUV(iuv string) bool {
	if len(iuv) != 17 || strings.Trim(iuv, "0123456789") != "" {
		return false
	}
	return CheckDigits(AuxDigit+iuv[:15]) == iuv[15:]
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 15 * time.Second}
}

// call sends body (when not nil) and decodes a 2xx answer into out. A
// transport failure or a 5xx is payment.ErrServiceDown; another status is
// an *Error.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	target := strings.TrimRight(c.BaseURL, "/") + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return err
	}
	req.Header.Set(KeyHeader, c.Key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", payment.ErrServiceDown, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: the answer was cut off: %v", payment.ErrServiceDown, err)
	}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("%w: GPD answered %d %s", payment.ErrServiceDown, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{Status: resp.StatusCode}
		_ = json.Unmarshal(b, &e.Problem)
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("the pagoPA debt-position service's answer is not the expected JSON: %v", err)
	}
	return nil
}

func (c *Client) positions() string {
	return "/organizations/" + url.PathEscape(c.CreditorCF) + "/debtpositions"
}

// CreatePosition implements payment.Gateway: one position of one payment
// option and one transfer to the comune's IBAN, published at once
// (toPublish=true) so it can be paid now, and expiring at its due date
// (switchToExpired) so a notice the citizen walked away from cannot be
// paid later. An IUV GPD already holds (409) is drawn again.
func (c *Client) CreatePosition(ctx context.Context, p payment.Position) (payment.Position, error) {
	if err := c.Check(); err != nil {
		return payment.Position{}, err
	}
	description := clip(p.Description, 140)
	for attempt := 0; ; attempt++ {
		iuv, err := NewIUV(c.Rand, c.SegregationCode)
		if err != nil {
			return payment.Position{}, err
		}
		iupd := c.CreditorCF + "-" + iuv // unique as the IUV is: "<Organization fiscal code + UUID>"
		debtor := p.DebtorName
		if strings.TrimSpace(debtor) == "" {
			debtor = p.DebtorCF
		}
		body := PaymentPosition{
			IUPD: iupd, Type: "F", FiscalCode: p.DebtorCF, FullName: clip(debtor, 140), SwitchToExpired: true,
			CompanyName: clip(c.CompanyName, 140),
			PaymentOption: []PaymentOption{{
				IUV: iuv, Amount: p.AmountCents, Description: description, IsPartialPayment: false, DueDate: p.Due.UTC(),
				Transfer: []Transfer{{IDTransfer: "1", Amount: p.AmountCents, OrganizationFiscalCode: c.CreditorCF,
					RemittanceInformation: description, Category: c.Category, IBAN: c.IBAN}},
			}},
		}
		var out PaymentPosition
		err = c.call(ctx, http.MethodPost, c.positions(), url.Values{"toPublish": {"true"}}, body, &out)
		var ge *Error
		if errors.As(err, &ge) && ge.Status == http.StatusConflict && attempt < 3 {
			continue
		}
		if err != nil {
			return payment.Position{}, err
		}
		notice := AuxDigit + iuv
		if len(out.PaymentOption) > 0 && out.PaymentOption[0].NAV != "" {
			notice = out.PaymentOption[0].NAV
		}
		return payment.Position{IUPD: iupd, IUV: iuv, NoticeNumber: notice, CreditorCF: c.CreditorCF, AmountCents: p.AmountCents,
			Description: description, Due: p.Due, DebtorCF: p.DebtorCF, DebtorName: p.DebtorName}, nil
	}
}

// PositionStatus implements payment.Gateway.
func (c *Client) PositionStatus(ctx context.Context, iupd string) (payment.PositionStatus, error) {
	var out PaymentPosition
	if err := c.call(ctx, http.MethodGet, c.positions()+"/"+url.PathEscape(iupd), nil, nil, &out); err != nil {
		return payment.PositionStatus{}, err
	}
	st := payment.PositionStatus{Status: out.Status}
	switch out.Status {
	case StatusPaid, StatusReported:
		// PARTIALLY_PAID is not paid: the hub's positions have one
		// option, paid whole or not at all.
		st.Paid = true
		if out.PaymentDate != nil {
			st.PaidAt = *out.PaymentDate
		}
		for _, o := range out.PaymentOption {
			if o.IDReceipt != "" {
				st.Receipt = o.IDReceipt
			}
			if st.PaidAt.IsZero() && o.PaymentDate != nil {
				st.PaidAt = *o.PaymentDate
			}
		}
	case StatusExpired, StatusInvalid:
		st.Closed = true
	}
	return st, nil
}

// CancelPosition implements payment.Gateway with invalidatePosition: a
// published position is invalidated, not deleted, so the notice cannot be
// paid any more and its history stays. One GPD says is not invalidable
// (409: paid meanwhile) is payment.ErrTransition.
func (c *Client) CancelPosition(ctx context.Context, iupd string) error {
	err := c.call(ctx, http.MethodPost, c.positions()+"/"+url.PathEscape(iupd)+"/invalidate", nil, nil, nil)
	var ge *Error
	if errors.As(err, &ge) && ge.Status == http.StatusConflict {
		return fmt.Errorf("%w: %v", payment.ErrTransition, err)
	}
	return err
}

func clip(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}
