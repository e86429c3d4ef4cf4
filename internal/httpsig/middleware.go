package httpsig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/sportello/sportello/internal/fault"
)

type verifiedKey struct{}

// VerifiedFrom returns the signature Middleware accepted for this request.
func VerifiedFrom(ctx context.Context) (*Verified, bool) {
	got, ok := ctx.Value(verifiedKey{}).(*Verified)
	return got, ok
}

// KeyID returns the key id whose signature Middleware accepted for this
// request: the device that sent it.
func KeyID(ctx context.Context) (string, bool) {
	got, ok := VerifiedFrom(ctx)
	if !ok {
		return "", false
	}
	return got.KeyID, true
}

// WithVerified returns ctx carrying got, for tests of handlers that sit
// behind Middleware.
func WithVerified(ctx context.Context, got *Verified) context.Context {
	return context.WithValue(ctx, verifiedKey{}, got)
}

// Refusal is the JSON body of a refused request.
type Refusal struct {
	Reason  Reason `json:"reason"`
	Message string `json:"message"`
	// Notice is the city's word to a suspended device: why, whom to call.
	Notice string `json:"notice,omitempty"`
}

// Middleware lets through only requests that v accepts. It checks the
// signature, its key, validity and nonce from the header first, and only
// then reads the body (at most v.MaxBody bytes) to check the Content-Digest,
// so an unsigned or wrongly signed request costs no body, however large or
// slow. It hands the same bytes on to next, and puts the accepted signature
// in the context (KeyID, VerifiedFrom). A refusal is answered with its
// status and a JSON Refusal, and counted in v.Metrics.
func Middleware(v *Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if limit := v.maxBody(); r.ContentLength > limit {
			refuseUnread(w, r)
			WriteRefusal(w, v.record(ctx, bodyTooLarge(strconv.FormatInt(r.ContentLength, 10), limit), ""))
			return
		}
		in, got, err := v.verifyRequestHead(ctx, r)
		if err != nil {
			refuseUnread(w, r)
			WriteRefusal(w, err)
			return
		}
		body, err := readBody(w, r, v.maxBody())
		if err == nil {
			err = checkContent(in, RequestMessage(r), body, true)
		}
		if err != nil {
			WriteRefusal(w, v.record(ctx, err, got.KeyID))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r.WithContext(WithVerified(ctx, got)))
	})
}

// refuseUnread prepares the refusal of a request whose body will not be
// read. Over HTTP/1 net/http would read up to 256 KiB of the body before
// answering, to keep the connection, waiting as long as a slow client
// likes; closing the connection instead answers at once, and the read
// deadline stops the server from waiting for the rest of the body after
// the answer. HTTP/2 resets the stream by itself.
func refuseUnread(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 1 || r.ContentLength == 0 {
		return
	}
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

// bodyTooLarge refuses a request whose content, n bytes, is over limit.
func bodyTooLarge(n string, limit int64) error {
	return refuse(ReasonBodyTooLarge, fmt.Sprintf("the request content is %s bytes, more than the %d accepted", n, limit))
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, bodyTooLarge("over "+strconv.FormatInt(limit, 10), limit)
	case err != nil:
		return nil, refuseErr(ReasonBodyUnreadable, "the request content could not be read: "+err.Error(), err)
	}
	return body, nil
}

// WriteRefusal answers err as JSON with the status of its reason; an error
// that is not a refusal is answered 500 without detail.
func WriteRefusal(w http.ResponseWriter, err error) {
	ref := Refusal{Reason: ReasonOf(err), Message: "internal error"}
	status := fault.Internal.Status()
	if ref.Reason != "" {
		ref.Message = err.Error()
		status = ref.Reason.Status()
		var e *Error
		if errors.As(err, &e) {
			ref.Notice = e.Notice
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ref)
}

// ResponseSigner signs every response of next with s: it buffers the
// response, then sets Content-Digest, Signature-Input and Signature bound to
// the request (see ResponseComponents). Put it outside Middleware so
// refusals are signed too, and outside nothing that rewrites the content
// (compression would break the digest). Streaming responses are buffered.
func ResponseSigner(s *Signer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bw := &bufferedWriter{w: w}
		next.ServeHTTP(bw, r)
		status := bw.status
		if status == 0 {
			status = http.StatusOK
		}
		body := bw.buf.Bytes()
		if r.Method == http.MethodHead || !bodyAllowed(status) {
			body = nil
		}
		h := w.Header()
		if len(body) > 0 && h.Get("Content-Type") == "" {
			// net/http would sniff one after signing; fix it now so it is covered.
			h.Set("Content-Type", http.DetectContentType(body))
		}
		if err := s.SignResponse(h, status, body, r); err != nil {
			for _, k := range []string{"Content-Digest", "Signature-Input", "Signature", "Content-Type"} {
				h.Del(k)
			}
			http.Error(w, "the response could not be signed", fault.Internal.Status())
			return
		}
		if bodyAllowed(status) {
			h.Set("Content-Length", strconv.Itoa(len(body)))
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// bufferedWriter holds a response until it is complete so it can be signed.
type bufferedWriter struct {
	w      http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.w.Header() }

// Unwrap lets http.ResponseController reach the connection, for
// Middleware's read deadline on a refused request.
func (b *bufferedWriter) Unwrap() http.ResponseWriter { return b.w }

func (b *bufferedWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		b.w.WriteHeader(code) // informational responses go out at once, unsigned
		return
	}
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.buf.Write(p)
}
