package staff

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/totp"
)

// VerifyTOTP checks a code at instant t (see totp.Verify), refusing a step
// at or before last. Staff may type the code with the space apps show in
// its middle. It returns the step matched.
func VerifyTOTP(secret []byte, code string, t time.Time, last int64) (int64, bool) {
	step, err := totp.Verify(secret, strings.ReplaceAll(code, " ", ""), t, last)
	return step, err == nil
}

// TOTPURI is the otpauth:// URI of Google Authenticator's key URI format,
// for a QR code.
func TOTPURI(issuer, user string, secret []byte) string {
	v := url.Values{}
	v.Set("secret", totp.Text(secret))
	v.Set("issuer", issuer)
	v.Set("digits", fmt.Sprint(totp.Digits))
	v.Set("period", fmt.Sprint(int(totp.Step/time.Second)))
	return "otpauth://totp/" + url.PathEscape(issuer+":"+user) + "?" + v.Encode()
}
