package control

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCallRunsInServer(t *testing.T) {
	sock := filepath.Join(t.TempDir(), SocketName)
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Serve(ctx, ln, func(ctx context.Context, req Request, stdout, stderr io.Writer) int {
			fmt.Fprintf(stdout, "args=%s dir=%s\n", strings.Join(req.Args, ","), req.Dir)
			if req.UID != os.Getuid() {
				fmt.Fprintf(stderr, "uid %d, want the caller's %d\n", req.UID, os.Getuid())
			}
			fmt.Fprintln(stderr, "a warning")
			return len(req.Args)
		})
	}()

	tests := []struct {
		args []string
		want int
	}{{[]string{"person", "list"}, 2}, {nil, 0}, {[]string{"a", "b", "c"}, 3}}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code, err := Call(ctx, sock, Request{Args: tt.args, Dir: "/tmp"}, &out, &errOut)
		if err != nil {
			t.Fatal(err)
		}
		if code != tt.want {
			t.Errorf("exit %d, want %d", code, tt.want)
		}
		if want := "args=" + strings.Join(tt.args, ",") + " dir=/tmp\n"; out.String() != want {
			t.Errorf("stdout %q, want %q", out.String(), want)
		}
		if errOut.String() != "a warning\n" {
			t.Errorf("stderr %q", errOut.String())
		}
	}

	if _, err := Listen(sock); err == nil {
		t.Error("a second Listen on a live socket succeeded")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := Call(context.Background(), sock, Request{}, io.Discard, io.Discard); err == nil {
		t.Error("Call succeeded with no hub")
	}
	// A socket left by a dead hub is replaced.
	ln2, err := Listen(sock)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln2.Close()
}
