package browsertest

import (
	"context"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

var refusalShots = flag.String("refusal-shots", "", "save a screenshot of each refused page in this directory")

// TestRefusalPages: a refused request reads, in the browser, as the
// console's catalogue says its reason code, in the page's language, with
// the code on the alert (data-reason) — on the page the request came from
// (a search form shown again) and on the error page alike.
func TestRefusalPages(t *testing.T) {
	h := startHub(t)
	ctx, cancel := newBrowser(t, h)
	defer cancel()
	if err := chromedp.Run(ctx, emulation.SetDeviceMetricsOverride(1280, 700, 1, false),
		chromedp.Navigate(h.url+"/admin/"), login("admin", demoPassword)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, reason, says string
	}{
		{"bad-protocol-it", "/admin/certificates?q=" + url.QueryEscape("abc/def"), "bad_protocol", "«abc/def» non è un numero di protocollo nella forma AAAA/NNNNNNN."},
		{"bad-protocol-en", "/admin/certificates?lang=en&q=" + url.QueryEscape("abc/def"), "bad_protocol", `"abc/def" is not a protocol number of the form YYYY/NNNNNNN.`},
		{"purpose-it", "/admin/persons?q=" + url.QueryEscape("rossi"), "purpose_required", "Indichi il motivo della consultazione"},
		{"no-certificate-it", "/admin/certificates/zzzzzzzz", "certificate_not_found", "Nessun certificato ha identificativo o numero di protocollo zzzzzzzz."},
		{"no-certificate-en", "/admin/certificates/zzzzzzzz?lang=en", "certificate_not_found", "No certificate has id or protocol number zzzzzzzz."},
	} {
		var says, reason string
		var ok bool
		err := chromedp.Run(ctx, chromedp.Navigate(h.url+tc.path),
			chromedp.WaitVisible(`[role=alert]`, chromedp.ByQuery), text(`[role=alert]`, &says),
			chromedp.AttributeValue(`[role=alert]`, "data-reason", &reason, &ok, chromedp.ByQuery))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !strings.Contains(says, tc.says) || reason != tc.reason {
			t.Errorf("%s: the alert says %q (reason %q), want %q (%s)", tc.name, says, reason, tc.says, tc.reason)
		}
		if *refusalShots != "" {
			var buf []byte
			if err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error { return chromedp.FullScreenshot(&buf, 100).Do(ctx) })); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(*refusalShots, "refusal-"+tc.name+".png"), buf, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
