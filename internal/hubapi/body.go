package hubapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpsig"
)

// signedKey is the key id of the enrolled device that signed r. Routes
// behind the signature check always have one; a handler mounted without the
// check gets the same refusal the check gives.
func signedKey(r *http.Request) (string, error) {
	keyID, ok := httpsig.KeyID(r.Context())
	if !ok {
		return "", &httpsig.Error{Reason: "missing_signature", Message: "the request is not signed by an enrolled device"}
	}
	return keyID, nil
}

// decodeBody reads r's JSON body, at most limit bytes, into v. Unknown
// fields are refused so a client's typo is not silently ignored; shape names
// what was expected in the refusal the client sees.
func decodeBody(r *http.Request, limit int64, v any, shape string) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fault.New(fault.Malformed, "bad_request", fmt.Sprintf("%s: %v", shape, err))
	}
	return nil
}

// requestChannel is the channel a request names, def when it names none.
func requestChannel(channel, def string) (string, error) {
	switch channel {
	case "":
		return def, nil
	case api.ChannelCounter, api.ChannelSelfService:
		return channel, nil
	}
	return "", fault.New(fault.Malformed, "bad_request", fmt.Sprintf("channel %q is neither counter nor self_service", channel))
}

// peekBody reads r's body (at most one byte past what a handler accepts, so
// an oversized body still fails in the handler) and puts it back for the
// handler; ok is false when the body could not be read or there is none.
func peekBody(r *http.Request) (b []byte, ok bool) {
	if r.Body == nil {
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
	return b, err == nil
}
