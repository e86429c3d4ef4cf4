package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/protocol"
)

// errProtocolPending: the protocol register's PostgreSQL tables (migration
// 0002) land in the next change; until then the register is refused here
// rather than kept somewhere it would not be shared by the hubs.
var errProtocolPending = fmt.Errorf("the protocol register is not yet kept in PostgreSQL: %w", errors.ErrUnsupported)

// Numbering is the protocol register's numbering in the database.
func (s *Store) Numbering() protocol.Numbering { return pendingNumbering{} }

// Protocol is the protocol register's view of the transaction.
func (t *tx) Protocol() protocol.Tx { return pendingProtocol{} }

type pendingNumbering struct{}

func (pendingNumbering) Reserve(context.Context, time.Time, protocol.Register) (protocol.Number, time.Time, error) {
	return protocol.Number{}, time.Time{}, errProtocolPending
}
func (pendingNumbering) Registered(context.Context, protocol.Number, time.Time) ([]protocol.Entry, error) {
	return nil, errProtocolPending
}
func (pendingNumbering) Abandon(context.Context, protocol.Number, time.Time, string, string) (*protocol.Entry, error) {
	return nil, errProtocolPending
}
func (pendingNumbering) CloseDay(context.Context, protocol.Day, time.Time) (protocol.Closing, []protocol.Entry, error) {
	return protocol.Closing{}, nil, errProtocolPending
}
func (pendingNumbering) Recover(context.Context, time.Time) ([]protocol.Entry, error) {
	return nil, errProtocolPending
}

type pendingProtocol struct{}

func (pendingProtocol) Write(protocol.Entry) error { return errProtocolPending }
func (pendingProtocol) Get(protocol.Number) (protocol.Entry, error) {
	return protocol.Entry{}, errProtocolPending
}
func (pendingProtocol) Last(int) (protocol.Number, error) {
	return protocol.Number{}, errProtocolPending
}
func (pendingProtocol) Day(protocol.Day) ([]protocol.Entry, error) { return nil, errProtocolPending }
func (pendingProtocol) Years() ([]int, error)                      { return nil, errProtocolPending }
func (pendingProtocol) Floor() (time.Time, error)                  { return time.Time{}, errProtocolPending }
func (pendingProtocol) Closed(protocol.Day) (protocol.Closing, bool, error) {
	return protocol.Closing{}, false, errProtocolPending
}
func (pendingProtocol) LastClosed() (protocol.Closing, bool, error) {
	return protocol.Closing{}, false, errProtocolPending
}
