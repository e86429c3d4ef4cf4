package anchorlog

import (
	"fmt"
	"net"
	"sync"

	"github.com/sportello/sportello/internal/audit"
)

// JournalSocket is where systemd-journald takes native-protocol entries.
const JournalSocket = "/run/systemd/journal/socket"

// Journal copies each anchor to the systemd journal, through its native
// protocol (one datagram of KEY=value lines on journald's socket), so the
// anchors also live where the hub's user cannot rewrite them and can be
// shipped off the machine (systemd-journal-upload, a remote syslog). Read
// them back with
//
//	journalctl -t sportello-hub SPORTELLO_AUDIT_ANCHOR_V1=1 -o cat --output-fields=SPORTELLO_AUDIT_ANCHOR
//
// which prints the anchor lines hub audit verify --anchors FILE checks.
//
// It is a copy: the file is the anchor the hub depends on. A journal that
// is down does not stop the hub from recording reads; Anchor then reports
// to OnError, once until the journal takes entries again, and returns nil.
type Journal struct {
	// Socket is journald's socket, usually JournalSocket.
	Socket string
	// OnError hears of the first failure after a success (nil: ignored).
	OnError func(error)

	mu     sync.Mutex
	conn   net.Conn
	failed bool
}

var _ audit.AnchorSink = (*Journal)(nil)

// Anchor sends s to the journal.
func (j *Journal) Anchor(s audit.SignedHead) error {
	line := s.String()
	msg := "MESSAGE=audit anchor " + line + "\n" +
		"PRIORITY=6\n" +
		"SYSLOG_IDENTIFIER=sportello-hub\n" +
		"SPORTELLO_AUDIT_ANCHOR_V1=1\n" +
		"SPORTELLO_AUDIT_ANCHOR=" + line + "\n"
	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.send([]byte(msg))
	if err != nil {
		// journald restarted: a fresh connection reaches the new one.
		j.close()
		err = j.send([]byte(msg))
	}
	switch {
	case err != nil && !j.failed:
		j.failed = true
		if j.OnError != nil {
			j.OnError(fmt.Errorf("the audit anchor of entry %d could not be copied to the journal at %s (anchors still go to the anchor file): %w", s.Seq, j.Socket, err))
		}
	case err == nil:
		j.failed = false
	}
	return nil
}

func (j *Journal) send(msg []byte) error {
	if j.conn == nil {
		c, err := net.Dial("unixgram", j.Socket)
		if err != nil {
			return err
		}
		j.conn = c
	}
	_, err := j.conn.Write(msg)
	return err
}

func (j *Journal) close() {
	if j.conn != nil {
		j.conn.Close()
		j.conn = nil
	}
}

// Close closes the connection to the journal.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.close()
	return nil
}
