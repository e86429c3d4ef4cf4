package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/sportello/sportello/internal/payment/gpd"
)

// pagoPAFlags are hub serve's settings of the city's pagoPA
// creditor-institution service (PagoPA's GPD debt positions).
type pagoPAFlags struct {
	url, keyFile, creditor, segregation, iban, category string
	key                                                 string
}

func addPagoPAFlags(fs *flag.FlagSet) *pagoPAFlags {
	f := &pagoPAFlags{}
	fs.StringVar(&f.url, "pagopa-url", "", "base URL of PagoPA's GPD debt-position service (e.g. https://api.platform.pagopa.it/gpd/debt-positions-service/v1); with the other --pagopa flags, self-service kiosks offer a pagoPA notice")
	fs.StringVar(&f.keyFile, "pagopa-key-file", "", "file holding the city's GPD subscription key (Ocp-Apim-Subscription-Key)")
	fs.StringVar(&f.creditor, "pagopa-creditor", "", "the comune's codice fiscale as creditor institution (11 digits)")
	fs.StringVar(&f.segregation, "pagopa-segregation-code", "", "the 2-digit segregation code PagoPA assigned to the hub for its IUVs (aux digit 3)")
	fs.StringVar(&f.iban, "pagopa-iban", "", "the IBAN the certificates' money is credited to")
	fs.StringVar(&f.category, "pagopa-category", "", "the transfer's taxonomy code (tassonomia dei servizi di incasso pagoPA) for certificate fees")
	return f
}

// check reads the key and refuses a partial configuration.
func (f *pagoPAFlags) check() error {
	set := 0
	for _, v := range []string{f.url, f.keyFile, f.creditor, f.segregation, f.iban, f.category} {
		if v != "" {
			set++
		}
	}
	if set == 0 {
		return nil
	}
	if set < 6 {
		return usagef("give --pagopa-url, --pagopa-key-file, --pagopa-creditor, --pagopa-segregation-code, --pagopa-iban and --pagopa-category together")
	}
	b, err := os.ReadFile(f.keyFile)
	if err != nil {
		return fmt.Errorf("cannot read the pagoPA key: %v", unwrapPath(err))
	}
	if f.key = strings.TrimSpace(string(b)); f.key == "" {
		return usagef("the pagoPA key file %s is empty", f.keyFile)
	}
	if err := f.client("x").Check(); err != nil {
		return usagef("pagoPA: %v", err)
	}
	return nil
}

func (f *pagoPAFlags) client(company string) *gpd.Client {
	return &gpd.Client{BaseURL: f.url, Key: f.key, CreditorCF: f.creditor, CompanyName: company, SegregationCode: f.segregation,
		IBAN: strings.ReplaceAll(f.iban, " ", ""), Category: f.category}
}

// gateway is the pagoPA client the flags describe, nil without them; the
// hub names the comune in it (hub.Config.PagoPA).
func (f *pagoPAFlags) gateway() *gpd.Client {
	if f.url == "" {
		return nil
	}
	return f.client("")
}
