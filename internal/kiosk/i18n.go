package kiosk

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode"
)

// Catalog holds the screens' sentences per language, read from
// assets/i18n/LANG.json: one flat object of key → text, with fmt verbs for
// the arguments a key takes.
type Catalog struct {
	msgs map[Lang]map[string]string
}

// LoadCatalog reads every language of Langs from dir in fsys.
func LoadCatalog(fsys fs.FS, dir string) (*Catalog, error) {
	c := &Catalog{msgs: map[Lang]map[string]string{}}
	for _, l := range Langs {
		b, err := fs.ReadFile(fsys, path.Join(dir, string(l)+".json"))
		if err != nil {
			return nil, fmt.Errorf("cannot read the %s translations: %w", l, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("the %s translations are not a flat JSON object of strings: %w", l, err)
		}
		c.msgs[l] = m
	}
	return c, nil
}

// Has reports whether lang has a sentence for key.
func (c *Catalog) Has(lang Lang, key string) bool {
	_, ok := c.msgs[lang][key]
	return ok
}

// Keys lists lang's keys.
func (c *Catalog) Keys(lang Lang) []string {
	var ks []string
	for k := range c.msgs[lang] {
		ks = append(ks, k)
	}
	return ks
}

// T returns key's sentence in lang filled with args; Italian when lang lacks
// it, and the key itself when no language has it, so a missing translation
// shows rather than hides.
func (c *Catalog) T(lang Lang, key string, args ...any) string {
	s, ok := c.msgs[lang][key]
	if !ok {
		s, ok = c.msgs[Italian][key]
	}
	if !ok {
		return key
	}
	if len(args) == 0 {
		return s
	}
	if slices.ContainsFunc(args, func(a any) bool { _, ok := a.(Phrase); return ok }) {
		args = slices.Clone(args) // the caller's, left as given
		for i, a := range args {
			if p, ok := a.(Phrase); ok {
				args[i] = c.T(lang, p.Key, p.Args...)
			}
		}
	}
	return fmt.Sprintf(s, args...)
}

// Phrase is a sentence of the catalogue given as the argument of another,
// written in the same language: a refusal and the reason for it (the
// codice fiscale's wrong character, say) composed without either sentence
// knowing the other's words.
type Phrase struct {
	Key  string
	Args []any
}

// Problem renders a problem: its translation when there is one, else its
// English detail.
func (c *Catalog) Problem(lang Lang, p *Problem) string {
	if p == nil {
		return ""
	}
	if c.Has(lang, p.Key) || c.Has(Italian, p.Key) {
		return c.T(lang, p.Key, p.Args...)
	}
	if strings.HasPrefix(p.Key, "hub_") && c.Has(lang, "hub_refused") {
		return c.T(lang, "hub_refused", p.Error())
	}
	return p.Error()
}

// HubReason is what a screen says of a refusal the hub gave with reason
// and message: the catalogue's sentence for the reason (hub_<reason>) in
// lang, without its last full stop so that it can sit inside another
// sentence; the hub's message only for a reason the catalogue lacks (a
// newer hub than this kiosk), else the code itself.
func (c *Catalog) HubReason(lang Lang, reason, message string) string {
	if c.Has(lang, "hub_"+reason) || c.Has(Italian, "hub_"+reason) {
		s := strings.TrimSuffix(c.T(lang, "hub_"+reason), ".")
		// After the colon of the sentence around it, in lower case
		// unless it starts with an acronym ("CIE").
		if r := []rune(s); len(r) > 1 && unicode.IsUpper(r[0]) && !unicode.IsUpper(r[1]) {
			r[0] = unicode.ToLower(r[0])
			s = string(r)
		}
		return s
	}
	if message != "" {
		return message
	}
	return reason
}
