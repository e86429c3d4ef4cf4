// Package mail sends notifications as e-mail over SMTP (RFC 5321) with
// net/smtp, upgrading to TLS with STARTTLS whenever the server offers it.
package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/notify"
)

// Client is an e-mail notifier.
type Client struct {
	Addr string // host:port of the SMTP server
	From string // the sender address, e.g. "Comune di Milano <anagrafe@comune.milano.it>"
	// Hello is the name given in EHLO; "localhost" when empty.
	Hello string
	// TLS configures STARTTLS; nil verifies the server's certificate for
	// the host of Addr.
	TLS *tls.Config
	// RequireTLS refuses to send when the server does not offer STARTTLS.
	RequireTLS bool
	Now        func() time.Time
}

var _ notify.Notifier = (*Client)(nil)

// Channel implements notify.Notifier.
func (c *Client) Channel() string { return "email" }

// Send implements notify.Notifier. The Message-ID is derived from the
// message, so a resend after a crash carries the same one and a mail
// client can fold the two.
func (c *Client) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if strings.TrimSpace(m.Email) == "" {
		return notify.Receipt{}, fmt.Errorf("%w: the registry holds no e-mail address for the citizen", notify.ErrNoRecipient)
	}
	to, err := mail.ParseAddress(m.Email)
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("%w: the registry's e-mail address %q is not usable: %v", notify.ErrNoRecipient, m.Email, err)
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return notify.Receipt{}, &notify.Refused{Permanent: true, Message: fmt.Sprintf("the sender address %q is not an e-mail address: %v", c.From, err)}
	}
	body, err := c.compose(from, to, m)
	if err != nil {
		return notify.Receipt{}, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("the SMTP server %s could not be reached: %w", c.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(c.Addr)
	cl, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return notify.Receipt{}, classify(err)
	}
	defer cl.Close()
	hello := c.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := cl.Hello(hello); err != nil {
		return notify.Receipt{}, classify(err)
	}
	if ok, _ := cl.Extension("STARTTLS"); ok {
		cfg := c.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host}
		}
		if err := cl.StartTLS(cfg); err != nil {
			return notify.Receipt{}, fmt.Errorf("STARTTLS with %s failed: %w", c.Addr, err)
		}
	} else if c.RequireTLS {
		return notify.Receipt{}, &notify.Refused{Permanent: true, Message: fmt.Sprintf("the SMTP server %s does not offer STARTTLS and TLS is required", c.Addr)}
	}
	if err := cl.Mail(from.Address); err != nil {
		return notify.Receipt{}, classify(err)
	}
	if err := cl.Rcpt(to.Address); err != nil {
		return notify.Receipt{}, classify(err)
	}
	w, err := cl.Data()
	if err != nil {
		return notify.Receipt{}, classify(err)
	}
	if _, err := w.Write(body); err != nil {
		return notify.Receipt{}, classify(err)
	}
	// Close sends the final dot and reads the server's reply: the moment
	// the message is accepted.
	if err := w.Close(); err != nil {
		return notify.Receipt{}, classify(err)
	}
	cl.Quit() // accepted already; a failed QUIT changes nothing
	return notify.Receipt{ID: messageID(m, from)}, nil
}

func messageID(m notify.Message, from *mail.Address) string {
	_, domain, _ := strings.Cut(from.Address, "@")
	sum := sha256.Sum256([]byte(m.CF + "\x00" + m.Subject + "\x00" + m.Markdown))
	return fmt.Sprintf("<%x@%s>", sum[:12], domain)
}

// compose writes the message in RFC 5322 form, UTF-8 text in
// quoted-printable.
func (c *Client) compose(from, to *mail.Address, m notify.Message) ([]byte, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", from.String())
	h("To", to.String())
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", now().Format(time.RFC1123Z))
	h("Message-ID", messageID(m, from))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(strings.ReplaceAll(m.Markdown, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// classify turns an SMTP reply into a refusal: 5xx is permanent, 4xx is
// retried; anything else (a dropped connection) is retried.
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &notify.Refused{Permanent: te.Code >= 500, Code: te.Code, Message: te.Msg}
	}
	return fmt.Errorf("SMTP: %w", err)
}
