package issuance_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/seal"
)

// TestEveryTypeVerifies issues each certificate type the hub knows, from
// the synthetic city — family certificates for a famiglia of several
// members — and checks that the sealed PDF verifies: every value the seal
// carries is printed as it is sealed. Before certificate.PrintedFact the
// seal carried values glued from several printed ones (birth date and
// place, the members' names), which no page prints as one run, so birth,
// marriage, stato libero and multi-member family certificates failed.
func TestEveryTypeVerifies(t *testing.T) {
	// A city large enough to hold a civil union, which the synthetic city
	// makes for few couples.
	d := issuancetest.New(t, 1500, 5, now)
	ctx := context.Background()
	today := registry.DateOf(now)
	dead, survivor := widowed(t, d)

	// Subjects who can ask for a certificate about themself, the members
	// of large families first.
	var subjects []*registry.Person
	size := map[registry.FamilyID]int{}
	err := d.Store.View(ctx, func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			_, doc := p.ValidDocument(today)
			if p.Alive() && doc && p.BirthDate.AgeAt(today) >= 18 {
				subjects = append(subjects, p)
			}
			if p.Alive() && p.Family != 0 {
				size[p.Family]++
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	types := certificate.Types()
	for _, extra := range []certificate.Type{certificate.Morte, certificate.ResidenzaStorica, certificate.StatoDiFamigliaStorico} {
		found := false
		for _, t := range types {
			found = found || t == extra
		}
		if !found {
			types = append(types, extra)
		}
	}
	family := map[certificate.Type]bool{
		certificate.StatoDiFamiglia: true, certificate.StatoDiFamigliaEStatoCivile: true,
		certificate.StatoDiFamigliaConParentela: true, certificate.StatoDiFamigliaAIRE: true,
		certificate.StatoDiFamigliaStorico: true,
	}
	for _, typ := range types {
		t.Run(string(typ), func(t *testing.T) {
			var tried []string
			issue := func(subject, requester string) ([]byte, bool) {
				req := counter(subject, d.Evidence(t, requester))
				req.Types = []string{string(typ)}
				if typ == certificate.ResidenzaStorica || typ == certificate.StatoDiFamigliaStorico {
					req.At = today
				}
				res, err := d.Issue(ctx, req)
				if err != nil {
					if len(tried) < 3 {
						tried = append(tried, err.Error())
					}
					return nil, false
				}
				return res.PDF, true
			}
			var pdfBytes []byte
			if typ == certificate.Morte {
				pdfBytes, _ = issue(dead.CF, survivor.CF)
			} else {
				for _, p := range subjects {
					if family[typ] && size[p.Family] < 2 {
						continue
					}
					if b, ok := issue(p.CF, p.CF); ok {
						pdfBytes = b
						break
					}
				}
			}
			if pdfBytes == nil {
				t.Fatalf("no subject in the synthetic city obtains it: %v", tried)
			}
			v, err := seal.VerifyPDF(pdfBytes, d.Keys.Trust())
			if err != nil || !v.Valid {
				t.Fatalf("does not verify: %v %s", err, v.Summary)
			}
			if family[typ] {
				// The family really has several members on the page: the
				// fact holds the head, the address (or the date) and one
				// line per member.
				n := 0
				for _, f := range v.Claims.Facts {
					if f.Key == string(typ) {
						n = strings.Count(f.Value, "\n")
					}
				}
				if n < 3 {
					t.Errorf("the family fact has %d lines, want the head, the address and two members", n+1)
				}
			}
		})
	}
}
