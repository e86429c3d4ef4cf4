package storecopy

import (
	"reflect"
	"testing"

	"github.com/sportello/sportello/internal/store"
)

// Every view of the hub's store is moved by some domain's copy: a domain
// added to store.Tx without a copy here fails this test, instead of a
// city's migration leaving its records behind.
func TestEveryViewMoves(t *testing.T) {
	moved := map[string]string{}
	for _, d := range domains {
		for _, v := range d.views {
			moved[v] = d.name
		}
	}
	tx := reflect.TypeFor[store.Tx]()
	for i := range tx.NumMethod() {
		if m := tx.Method(i).Name; moved[m] == "" {
			t.Errorf("store.Tx.%s is no domain's: hub migrate would leave its records behind", m)
		}
	}
	for v, d := range moved {
		if _, ok := tx.MethodByName(v); !ok {
			t.Errorf("domain %s moves store.Tx.%s, which does not exist", d, v)
		}
	}
}
