package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/fault/hubfault"
)

// The console answers every request it does not carry out through one
// path: the error is a fault (its kind and reason code, internal/fault),
// the status is fault's table's for the kind (the same the API answers),
// and the sentence is the catalogue's for the reason code (reasonSentences,
// in the page's language). No handler names a 4xx or 5xx status itself
// (TestNoStatusLiterals).

// refused is the console's own refusal: kind k and the reason code, and
// the arguments of the reason's sentence, which is phrased when the page
// is rendered, in its language (refuse).
func refused(k fault.Kind, reason string, args ...any) error {
	return &fault.Error{Kind: k, Reason: reason, Err: &phrase{reason, args}}
}

// phrase is a refusal's sentence not yet phrased: its reason and
// arguments. As an error (the log's) it reads as the English sentence.
type phrase struct {
	reason string
	args   []any
}

func (p *phrase) Error() string { return reasonText("en", p.reason, p.args...) }

// refuse puts err on v, the sentence and the reason code, and returns the
// status to answer with, fault's table's for err's kind (hubfault.Of). A
// failure of the hub itself (Internal, Unavailable) is logged with its
// cause and said as its reason's sentence alone: its text is for the log,
// not for the page. A domain error the console did not phrase (a staff
// account refused by package staff, say) reads as its reason's sentence
// followed by the domain's own detail.
func (c *Console) refuse(r *http.Request, v *view, err error) int {
	k, reason := hubfault.Of(err)
	fe, own := fault.As(err)
	var p *phrase
	switch {
	case own && fe.Reason == reason && errors.As(fe.Err, &p):
		v.Error = reasonText(v.Lang, reason, p.args...)
	case k == fault.Internal || k == fault.Unavailable:
		v.Error = reasonText(v.Lang, reason)
		c.log().Error("admin", "method", r.Method, "path", r.URL.Path, "reason", reason, "err", err)
	default:
		if ce, ok := errors.AsType[*city.Error](err); ok && hasReason(ce.Reason) {
			// The city settings name their refusals finer than
			// hubfault's "invalid", with the setting's arguments.
			reason = ce.Reason
			v.Error = settingSentence(v.Lang, ce)
			break
		}
		v.Error = reasonText(v.Lang, reason)
		if d := err.Error(); d != "" && d != reason {
			v.Error += " " + tr(v.Lang, "error.detail") + ": " + d
		}
	}
	v.Reason = reason
	return k.Status()
}

// fail answers the request with an error page saying err.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	v := c.newView(r, "error.title")
	c.render(w, r, c.refuse(r, v, err), "error", v)
}

// renderRefused renders page name with v and err said on it: a form shown
// again with why it was refused, answered with err's status.
func (c *Console) renderRefused(w http.ResponseWriter, r *http.Request, name string, v *view, err error) {
	c.render(w, r, c.refuse(r, v, err), name, v)
}

// renderOr renders page name with v: with err said on it and err's status
// when err is not nil, else as a 200.
func (c *Console) renderOr(w http.ResponseWriter, r *http.Request, name string, v *view, err error) {
	if err != nil {
		c.renderRefused(w, r, name, v, err)
		return
	}
	c.render(w, r, http.StatusOK, name, v)
}

// reasonText is the catalogue's sentence for reason in lang, formatted
// with args: the console's own (reasonSentences), else the one the kiosks
// show for the API's reasons (assets/i18n, "hub_"+reason), so a domain
// refusal the console passes on reads as it does at a counter; a reason
// neither knows reads as the generic sentence of an internal failure
// (TestEveryReasonHasASentence keeps that from happening).
func reasonText(lang, reason string, args ...any) string {
	s, ok := sentence(lang, reason)
	if !ok {
		s, _ = sentence(lang, api.ReasonInternal)
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// hasReason reports whether the catalogue has a sentence for reason.
func hasReason(reason string) bool {
	_, it := sentence("it", reason)
	_, en := sentence("en", reason)
	return it && en
}

func sentence(lang, reason string) (string, bool) {
	i := 0
	if lang == "en" {
		i = 1
	}
	if m, ok := reasonSentences[reason]; ok {
		return m[i], true
	}
	s, ok := kioskSentences()[lang]["hub_"+reason]
	return s, ok && s != ""
}

// kioskSentences is the kiosks' catalogue (assets/i18n/LANG.json), read
// once; a damaged file is the build's fault and reads as an empty one.
var kioskSentences = sync.OnceValue(func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range languages {
		m := map[string]string{}
		if b, err := assets.FS.ReadFile("i18n/" + lang + ".json"); err == nil {
			_ = json.Unmarshal(b, &m)
		}
		out[lang] = m
	}
	return out
})
