package operators

import (
	"fmt"
	"strconv"
	"strings"
)

// Restorer writes operators and clerks as another store kept them, their
// ids included, for hub migrate: devices, codes, sessions and reports name
// them by id, so a moved city must keep every one. The id's sequence moves
// past the restored number, so an operator or clerk added afterwards never
// takes an id a restored one holds. A record whose id is already stored is
// refused (ErrInvalid).
type Restorer interface {
	RestoreOperator(o *Operator) error
	RestoreClerk(c *Clerk) error
}

// IDNumber returns the number of an id the stores assign, "op-0042" with
// prefix "op" giving 42; ErrInvalid for another form.
func IDNumber(id, prefix string) (int64, error) {
	digits, ok := strings.CutPrefix(id, prefix+"-")
	n, err := strconv.ParseInt(digits, 10, 64)
	if !ok || err != nil || n < 1 || len(digits) < 4 {
		return 0, fmt.Errorf("%w: %q is not an id of the form %s-0001", ErrInvalid, id, prefix)
	}
	return n, nil
}
