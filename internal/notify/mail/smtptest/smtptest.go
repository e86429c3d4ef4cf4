// Package smtptest is a small SMTP server for tests: it speaks enough of
// RFC 5321 (EHLO/HELO, MAIL, RCPT, DATA with dot-stuffing, RSET, NOOP, QUIT)
// to accept a message and record it, refuses commands out of order with
// 503 and malformed ones with 501, and can answer the end of DATA with a
// failure the test asks for.
package smtptest

import (
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"sync"
)

// Message is a message the server accepted.
type Message struct {
	From string
	To   []string
	Data string // as received, dot-stuffing removed, CRLF line ends
}

// Server is the test server.
type Server struct {
	Addr string
	ln   net.Listener

	mu       sync.Mutex
	messages []Message
	fail     []string // replies to give at the end of the next DATAs, e.g. "451 4.3.0 try later"
	wg       sync.WaitGroup
}

// Start listens on a free loopback port.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Close stops the server and waits for its connections.
func (s *Server) Close() {
	s.ln.Close()
	s.wg.Wait()
}

// FailNext makes the next DATA ends answer these replies ("451 …", "554 …").
func (s *Server) FailNext(replies ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, replies...)
}

// Messages returns what the server accepted, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.serve(textproto.NewConn(c))
		}()
	}
}

func (s *Server) serve(c *textproto.Conn) {
	reply := func(line string) bool { return c.PrintfLine("%s", line) == nil }
	if !reply("220 smtptest ESMTP ready") {
		return
	}
	var helo bool
	var from string
	var to []string
	for {
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			if arg == "" {
				reply("501 5.5.4 EHLO needs a domain")
				continue
			}
			helo, from, to = true, "", nil
			reply("250-smtptest greets " + arg)
			reply("250-8BITMIME")
			reply("250 SIZE 1048576")
		case "HELO":
			if arg == "" {
				reply("501 5.5.4 HELO needs a domain")
				continue
			}
			helo, from, to = true, "", nil
			reply("250 smtptest")
		case "MAIL":
			path, ok := pathArg(arg, "FROM:")
			switch {
			case !helo:
				reply("503 5.5.1 EHLO first")
			case !ok:
				reply("501 5.5.4 syntax: MAIL FROM:<address>")
			default:
				from, to = path, nil
				reply("250 2.1.0 ok")
			}
		case "RCPT":
			path, ok := pathArg(arg, "TO:")
			switch {
			case from == "" && !ok:
				reply("501 5.5.4 syntax: RCPT TO:<address>")
			case from == "":
				reply("503 5.5.1 MAIL first")
			case !ok || !strings.Contains(path, "@"):
				reply("501 5.1.3 syntax: RCPT TO:<address>")
			default:
				to = append(to, path)
				reply("250 2.1.5 ok")
			}
		case "DATA":
			if from == "" || len(to) == 0 {
				reply("503 5.5.1 MAIL and RCPT first")
				continue
			}
			reply("354 end data with <CR><LF>.<CR><LF>")
			lines, err := c.ReadDotLines()
			if err != nil {
				return
			}
			s.mu.Lock()
			var fail string
			if len(s.fail) > 0 {
				fail, s.fail = s.fail[0], s.fail[1:]
			} else {
				s.messages = append(s.messages, Message{From: from, To: to, Data: strings.Join(lines, "\r\n")})
			}
			n := len(s.messages)
			s.mu.Unlock()
			from, to = "", nil
			if fail != "" {
				reply(fail)
				continue
			}
			reply(fmt.Sprintf("250 2.0.0 queued as M%d", n))
		case "RSET":
			from, to = "", nil
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("500 5.5.2 command not recognised")
		}
	}
}

// pathArg reads "FROM:<addr> [params]" (or TO:).
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}
