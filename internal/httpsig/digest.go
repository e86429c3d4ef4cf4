package httpsig

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"

	"github.com/dunglas/httpsfv"
)

// ContentDigest is the RFC 9530 Content-Digest field value for content,
// using sha-256, the algorithm this system sends.
func ContentDigest(content []byte) string {
	sum := sha256.Sum256(content)
	d := httpsfv.NewDictionary()
	d.Add("sha-256", httpsfv.NewItem(sum[:]))
	s, _ := httpsfv.Marshal(d) // a fixed key and a byte sequence always serialize
	return s
}

// digesters are the algorithms accepted on verification. Insecure ones that
// RFC 9530 registers (md5, sha, unixsum, ...) are ignored as if absent.
var digesters = map[string]func([]byte) []byte{
	"sha-256": func(b []byte) []byte { s := sha256.Sum256(b); return s[:] },
	"sha-512": func(b []byte) []byte { s := sha512.Sum512(b); return s[:] },
}

// CheckContentDigest checks Content-Digest field values against content:
// every accepted algorithm present must match, and at least one must be.
func CheckContentDigest(values []string, content []byte) error {
	if len(values) == 0 {
		return refuse(ReasonMissingDigest, "the message has content but no Content-Digest field")
	}
	d, err := httpsfv.UnmarshalDictionary(values)
	if err != nil {
		return refuseErr(ReasonMalformedDigest, "the Content-Digest field is not a valid structured-field dictionary: "+err.Error(), err)
	}
	checked := 0
	for _, alg := range d.Names() {
		m, _ := d.Get(alg)
		it, ok := m.(httpsfv.Item)
		if !ok {
			return refuse(ReasonMalformedDigest, fmt.Sprintf("Content-Digest member %q is not a byte sequence", alg))
		}
		got, ok := it.Value.([]byte)
		if !ok {
			return refuse(ReasonMalformedDigest, fmt.Sprintf("Content-Digest member %q is not a byte sequence", alg))
		}
		h, ok := digesters[alg]
		if !ok {
			continue
		}
		if subtle.ConstantTimeCompare(got, h(content)) != 1 {
			return refuse(ReasonDigestMismatch,
				fmt.Sprintf("the %s Content-Digest does not match the %d bytes of content received", alg, len(content)))
		}
		checked++
	}
	if checked == 0 {
		return refuse(ReasonUnsupportedDigest, "the Content-Digest field has no sha-256 or sha-512 digest, the only algorithms accepted")
	}
	return nil
}
