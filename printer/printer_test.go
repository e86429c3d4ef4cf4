package printer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeTransport reports a scripted status before and after each send.
type fakeTransport struct {
	before, after Status
	sendErr       error
	statusErr     error
	sent          [][]byte
	calls         int
}

func (f *fakeTransport) Send(_ context.Context, j Job) error {
	if f.sendErr != nil {
		return f.sendErr
	}
	f.sent = append(f.sent, j.Data)
	return nil
}

func (f *fakeTransport) Status(context.Context) (Status, error) {
	f.calls++
	if f.statusErr != nil {
		return Status{}, f.statusErr
	}
	if len(f.sent) == 0 {
		return f.before, nil
	}
	return f.after, nil
}

func (f *fakeTransport) Close() error { return nil }

func TestPrint(t *testing.T) {
	now := time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		tr      *fakeTransport
		want    error // nil: printed
		message string
	}{
		{"ready", &fakeTransport{}, nil, ""},
		{"near end still prints", &fakeTransport{after: Status{PaperNearEnd: true}}, nil, ""},
		{"no status", &fakeTransport{statusErr: ErrNoStatus}, nil, ""},
		{"cover open before", &fakeTransport{before: Status{CoverOpen: true, Offline: true}}, CoverOpen, "the printer reports cover open before printing"},
		{"paper out after", &fakeTransport{after: Status{PaperOut: true}}, PaperOut, "paper out after printing"},
		{"send fails", &fakeTransport{sendErr: errors.New("connection reset")}, nil, "connection reset"},
		{"status fails", &fakeTransport{statusErr: errors.New("timeout")}, nil, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := NewMemSpool()
			p := &Printer{URI: "tcp://x:9100", Transport: tt.tr, Spool: sp, Now: func() time.Time { return now }}
			err := p.Print(context.Background(), Job{Name: "r", Format: FormatESCPOS, Data: []byte("x")})
			jobs, _ := sp.List()
			if tt.message == "" {
				if err != nil || len(jobs) != 0 {
					t.Fatalf("Print = %v with %d spooled, want printed and nothing kept", err, len(jobs))
				}
				return
			}
			var je *JobError
			if !errors.As(err, &je) || !strings.Contains(err.Error(), tt.message) || !strings.Contains(err.Error(), "kept as") {
				t.Fatalf("Print error = %v, want a JobError saying %q and that the job is kept", err, tt.message)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("errors.Is(%v, %v) is false", err, tt.want)
			}
			if len(jobs) != 1 || jobs[0].ID != je.ID || jobs[0].Attempts != 1 || jobs[0].LastError == "" || string(jobs[0].Data) != "x" || jobs[0].Printer != p.URI {
				t.Fatalf("spool holds %+v, want the one failed job with its error", jobs)
			}
			// The operator fixes the printer and reprints: the job leaves the spool.
			*tt.tr = fakeTransport{}
			if err := p.Reprint(context.Background(), je.ID); err != nil {
				t.Fatalf("Reprint: %v", err)
			}
			if jobs, _ := sp.List(); len(jobs) != 0 {
				t.Errorf("after a good reprint the spool still holds %d jobs", len(jobs))
			}
		})
	}
}

func TestSpools(t *testing.T) {
	dir, err := NewDirSpool(t.TempDir(), spoolKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, sp := range map[string]Spool{"mem": NewMemSpool(), "dir": dir} {
		t.Run(name, func(t *testing.T) {
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i, id := range []string{"b", "a", "c"} {
				if err := sp.Put(Job{ID: id, Created: t0.Add(time.Duration(i) * time.Minute), Data: []byte{byte(i), 0xD5}}); err != nil {
					t.Fatal(err)
				}
			}
			if err := sp.Put(Job{ID: "../evil"}); err == nil {
				t.Error("a job ID with a path was accepted")
			}
			jobs, err := sp.List()
			if err != nil || len(jobs) != 3 || jobs[0].ID != "b" || jobs[2].ID != "c" {
				t.Fatalf("List = %+v, %v; want b, a, c by creation", jobs, err)
			}
			j, err := sp.Get("a")
			if err != nil || j.Data[0] != 1 || j.Data[1] != 0xD5 {
				t.Fatalf("Get(a) = %+v, %v", j, err)
			}
			if err := sp.Delete("a"); err != nil {
				t.Fatal(err)
			}
			if _, err := sp.Get("a"); !errors.Is(err, ErrNoJob) {
				t.Errorf("Get after Delete = %v, want ErrNoJob", err)
			}
			if err := sp.Delete("a"); !errors.Is(err, ErrNoJob) {
				t.Errorf("second Delete = %v, want ErrNoJob", err)
			}
		})
	}
	// A new DirSpool on the same directory sees the jobs: they survive a restart.
	again, _ := NewDirSpool(dir.Dir(), spoolKey)
	if jobs, _ := again.List(); len(jobs) != 2 {
		t.Errorf("reopened spool lists %d jobs, want 2", len(jobs))
	}
}

func TestParseDeviceID(t *testing.T) {
	tests := []struct {
		in       string
		mfg, mdl string
		cmds     []string
		err      bool
	}{
		{"MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;DES:TM-T20II;", "EPSON", "TM-T20II", []string{"ESC/POS"}, false},
		{"MANUFACTURER:Hewlett-Packard;COMMAND SET:PJL,PCL,POSTSCRIPT,PDF;MODEL:HP LaserJet M404;", "Hewlett-Packard", "HP LaserJet M404", []string{"PJL", "PCL", "POSTSCRIPT", "PDF"}, false},
		{" mfg : Star ; mdl: TSP100 ", "Star", "TSP100", nil, false},
		{"CLS:PRINTER;", "", "", nil, true},
		{"garbage", "", "", nil, true},
	}
	for _, tt := range tests {
		id, err := ParseDeviceID(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseDeviceID(%q) error = %v", tt.in, err)
			continue
		}
		if err != nil {
			continue
		}
		if id.Manufacturer != tt.mfg || id.Model != tt.mdl || strings.Join(id.Commands, ",") != strings.Join(tt.cmds, ",") {
			t.Errorf("ParseDeviceID(%q) = %+v", tt.in, id)
		}
	}
	raw := "MFG:EPSON;MDL:TM-T88V;CMD:ESC/POS;"
	b := append([]byte{0, byte(len(raw) + 2)}, raw...)
	b = append(b, 0, 0, 0) // buffers are often longer than the ID
	id, err := ParseDeviceIDPrefixed(b)
	if err != nil || id.Model != "TM-T88V" || !id.Speaks("esc/pos") {
		t.Errorf("ParseDeviceIDPrefixed = %+v, %v", id, err)
	}
	if _, err := ParseDeviceIDPrefixed([]byte{0x10, 0}); err == nil {
		t.Error("a length beyond the data was accepted")
	}
}

func FuzzParseDeviceID(f *testing.F) {
	f.Add([]byte("\x00\x22MFG:EPSON;MDL:TM-T20II;CMD:ESC/POS;"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParseDeviceIDPrefixed(b)
		if err == nil && id.Manufacturer == "" && id.Model == "" {
			t.Fatal("accepted an ID naming nothing")
		}
	})
}

// spoolWatcher is a transport that records, at each send, what the spool
// holds for the job: the mark that it is being printed must be there
// before the first byte goes out.
type spoolWatcher struct {
	fakeTransport
	spool   Spool
	started []time.Time
}

func (w *spoolWatcher) Send(ctx context.Context, j Job) error {
	kept, err := w.spool.Get(j.ID)
	if err != nil {
		return err
	}
	w.started = append(w.started, kept.Started)
	return w.fakeTransport.Send(ctx, j)
}

// TestPrintSpooled: a spooled job is marked as printing before it is sent,
// leaves the spool once the printer confirms it, and after a failure stays
// with the attempt recorded and the mark cleared (so it is not taken for a
// job that may be on paper).
func TestPrintSpooled(t *testing.T) {
	now := time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	sp := NewMemSpool()
	w := &spoolWatcher{spool: sp}
	var sent []string
	p := &Printer{URI: "tcp://x:9100", Transport: w, Spool: sp, Now: func() time.Time { return now },
		Sent: func(j Job) {
			if _, err := sp.Get(j.ID); err != nil {
				t.Errorf("at the Sent hook job %s has already left the spool", j.ID)
			}
			sent = append(sent, j.ID)
		}}
	job := Job{ID: "j1", Format: FormatESCPOS, Created: now, Data: []byte("ricevuta")}
	if err := sp.Put(job); err != nil {
		t.Fatal(err)
	}
	if err := p.PrintSpooled(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if len(w.started) != 1 || !w.started[0].Equal(now) || len(sent) != 1 {
		t.Fatalf("the spool said started %v at the send, hook saw %v", w.started, sent)
	}
	if _, err := sp.Get("j1"); !errors.Is(err, ErrNoJob) {
		t.Errorf("a printed job is still in the spool: %v", err)
	}

	job2 := Job{ID: "j2", Format: FormatESCPOS, Created: now, Data: []byte("altra")}
	sp.Put(job2)
	w.after = Status{PaperOut: true}
	var je *JobError
	if err := p.PrintSpooled(context.Background(), job2); !errors.As(err, &je) || !errors.Is(err, PaperOut) {
		t.Fatalf("printing without paper: %v", err)
	}
	kept, err := sp.Get("j2")
	if err != nil || !kept.Started.IsZero() || kept.Attempts != 1 || !strings.Contains(kept.LastError, "paper out") {
		t.Errorf("after a failed print the spool keeps %+v, %v", kept, err)
	}
	if len(sent) != 1 {
		t.Errorf("the Sent hook ran for a job the printer did not confirm")
	}
}
