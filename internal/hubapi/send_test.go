package hubapi

import (
	"crypto/ed25519"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
)

// send signs req over body with signer (nil sends it unsigned, as a
// stranger's request would come), sends it and reads the answer.
func send(t *testing.T, req *http.Request, signer *httpsig.Signer, body []byte) (*http.Response, []byte) {
	t.Helper()
	if signer != nil {
		if err := signer.SignRequest(req, body); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

// signerIf is signer when sign is set, else nil: the tests' switch between
// a device's request and an unsigned one.
func signerIf(sign bool, signer *httpsig.Signer) *httpsig.Signer {
	if !sign {
		return nil
	}
	return signer
}

// activeShop is an active edicola of Milan whose agreement covers
// residenza, with one device ("banco 1") enrolled, kept in the desk's own
// bbolt file.
type activeShop struct {
	ops   *operators.Service
	id    string // the shop's operator id
	keyID string
	key   ed25519.PrivateKey
}

func newActiveShop(t *testing.T, d *issuancetest.Desk) activeShop {
	t.Helper()
	ops := operators.NewService(bolt.New(d.Store), store.Tx.Operators, nil, d.Now, operators.Policy{Calendar: operators.Milan})
	o := &operators.Operator{LegalName: "Rossi Giornali S.n.c.", Name: "Edicola Centrale", PartitaIVA: "01199250158", Category: operators.Edicola,
		Address:   operators.Address{Street: "Piazza Duomo", Number: "1", CAP: "20121", City: "Milano", Lat: 45.46, Lon: 9.19},
		Agreement: &operators.Agreement{Signed: registry.Date{Year: 2026, Month: 1, Day: 1}, Expires: registry.Date{Year: 2027, Month: 12, Day: 31}, FeeCents: 200, Types: []certificate.Type{certificate.Residenza}}}
	if err := ops.Add(o, "staff"); err != nil {
		t.Fatal(err)
	}
	for _, st := range []operators.Status{operators.Approved, operators.Active} {
		var err error
		if o, err = ops.SetStatus(o.ID, st, "staff", "test"); err != nil {
			t.Fatal(err)
		}
	}
	code, _, err := ops.IssueCode(o.ID, "staff", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	dev, err := ops.Enrol(code, pub, "banco 1")
	if err != nil {
		t.Fatal(err)
	}
	return activeShop{ops: ops, id: o.ID, keyID: dev.KeyID, key: priv}
}
