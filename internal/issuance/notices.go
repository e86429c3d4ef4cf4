package issuance

import (
	"time"

	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/store"
)

// QueueNotices is the hub's Notices: each notice goes into the
// notification queue of the issuing transaction (store.Tx.Notices), which
// the hub's sender drains. A certificate obtained under a delegation is a
// use of the delegation the delegator is told of as a reminder of kind
// reminder.DelegationUsed (issue 17), so the channels the delegator chose
// for that kind apply (none: no message); every other notice is the
// certificate's own, one per certificate.
type QueueNotices struct {
	Now func() time.Time
}

func (q QueueNotices) Notice(tx store.Tx, n Notice) error {
	is := notify.Issued(n)
	if n.Delegation == "" {
		return tx.Notices().Enqueue(is.Item(q.Now()))
	}
	m := is.Message()
	_, err := reminder.Enqueue(tx, reminder.Reminder{Kind: reminder.DelegationUsed, Key: n.Delegation + "/" + n.CertificateID,
		CF: n.SubjectCF, Subject: m.Subject, Markdown: m.Markdown}, q.Now())
	return err
}
