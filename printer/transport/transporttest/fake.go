// Package transporttest is a fake network receipt printer for tests: it
// listens on 127.0.0.1, records what it is sent, answers DLE EOT status
// requests, and can run out of paper part-way through a job.
package transporttest

import (
	"bytes"
	"net"
	"sync"
	"testing"

	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
)

// Printer is a fake TCP 9100 printer.
type Printer struct {
	Addr string
	ln   net.Listener

	mu       sync.Mutex
	status   printer.Status
	received bytes.Buffer
	queries  int
	// paperLeft counts job bytes until the paper runs out; -1 is endless.
	paperLeft int
	silent    bool
}

// Start runs a fake printer until the test ends.
func Start(t testing.TB) *Printer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Printer{Addr: ln.Addr().String(), ln: ln, paperLeft: -1}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return p
}

// URI is the printer's tcp:// URI.
func (p *Printer) URI() string { return "tcp://" + p.Addr }

// SetStatus sets what the printer reports.
func (p *Printer) SetStatus(s printer.Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = s
}

// PaperOutAfter makes the paper run out once n more job bytes arrive; n < 0
// refills the roll for good.
func (p *Printer) PaperOutAfter(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paperLeft = n
	if n < 0 {
		p.status.PaperOut = false
	}
}

// Silent stops the printer answering status requests, like a print server
// in front of a one-way printer.
func (p *Printer) Silent(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silent = on
}

// Received returns the job bytes received so far, status requests removed.
func (p *Printer) Received() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.received.Bytes())
}

// Reset forgets what was received.
func (p *Printer) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.received.Reset()
}

// Queries counts the DLE EOT requests answered.
func (p *Printer) Queries() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queries
}

// serve reads a connection; DLE EOT n (n 1-4) anywhere in the stream is a
// real-time request, answered at once as a real printer does.
func (p *Printer) serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	var pend []byte // a DLE EOT split across reads
	for {
		n, err := c.Read(buf)
		if n > 0 {
			data := append(pend, buf[:n]...)
			pend = nil
			var out []byte
			p.mu.Lock()
			for i := 0; i < len(data); i++ {
				if data[i] == 0x10 && i+1 >= len(data) || data[i] == 0x10 && data[i+1] == 0x04 && i+2 >= len(data) {
					pend = append(pend, data[i:]...)
					break
				}
				if data[i] == 0x10 && data[i+1] == 0x04 && data[i+2] >= 1 && data[i+2] <= 4 {
					if !p.silent {
						out = append(out, escpos.StatusBytes(p.status)[data[i+2]-1])
						p.queries++
					}
					i += 2
					continue
				}
				p.received.WriteByte(data[i])
				if p.paperLeft > 0 {
					p.paperLeft--
				}
				if p.paperLeft == 0 {
					p.status.PaperOut = true
				}
			}
			p.mu.Unlock()
			if len(out) > 0 {
				if _, err := c.Write(out); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}
