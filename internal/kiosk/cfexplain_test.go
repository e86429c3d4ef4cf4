package kiosk

import (
	"errors"
	"strings"
	"testing"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/certificate"
)

// TestCFErrorNamesTheCharacter: a mistyped codice fiscale is refused with
// the character that is wrong, what it should be and the part of the code
// it belongs to, in Italian and English, at the identification, at the
// clerk's log-in and for the "other person" of the choice — as `hub cf
// check` and the console explain it.
func TestCFErrorNamesTheCharacter(t *testing.T) {
	cat, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	// RSSMRA50B17A558W is valid; each case breaks one rule.
	cases := []struct {
		cf     string
		it, en string
	}{
		{"RSSMRA50B17A558X", "il 16° carattere «X» dovrebbe essere «W»", "character 16 (“X”) should be “W”"},
		{"RSSMRA50B17AX58W", "il 13° carattere «X» dovrebbe essere una cifra (luogo di nascita)", "character 13 (“X”) should be a digit (place of birth)"},
		{"RSSMRA50B171558W", "il 12° carattere «1» dovrebbe essere una lettera (luogo di nascita)", "character 12 (“1”) should be a letter (place of birth)"},
		{"RS5MRA50B17A558W", "il 3° carattere «5» dovrebbe essere una lettera (cognome)", "character 3 (“5”) should be a letter (surname)"},
		{"RSSMRA50F17A558W", "il 9° carattere «F» dovrebbe essere la lettera del mese di nascita", "character 9 (“F”) should be the letter of the month of birth"},
		{"rssmra50b77a558w", "il 10° e l'11° carattere «77» dovrebbero essere il giorno di nascita", "characters 10 and 11 (“77”) should be the day of birth"},
		{"RSSMRA50B30A558W", "il 10° e l'11° carattere «30» danno un giorno che il mese del 9° carattere «B» non ha", "characters 10 and 11 (“30”) give a day the month of character 9 (“B”) does not have"},
		{"RSSMRA50B17A558", "ha 15 caratteri invece di 16", "it has 15 characters instead of 16"},
		{"RSSMRA50B17A55-W", "il 15° carattere «-» non è né una lettera né una cifra", "character 15 (“-”) is neither a letter nor a digit"},
	}
	check := func(t *testing.T, err error, it, en string) {
		t.Helper()
		var p *Problem
		if !errors.As(err, &p) || p.Key != "cf_invalid" {
			t.Fatalf("refused with %v, want cf_invalid", err)
		}
		for _, w := range []struct {
			lang Lang
			want string
		}{{Italian, it}, {English, en}} {
			if got := cat.Problem(w.lang, p); !strings.Contains(got, w.want) {
				t.Errorf("%s: %q, want it to say %q", w.lang, got, w.want)
			}
		}
	}
	for _, c := range cases {
		t.Run(c.cf, func(t *testing.T) {
			r := newRig(t, Operator)
			login(r)
			check(t, r.flow.IdentifyByCF(ctx, c.cf, "CA12345AB"), c.it, c.en)
		})
	}
	t.Run("other person", func(t *testing.T) {
		r := newRig(t, Operator)
		identified(r)
		err := r.flow.Choose(Choice{SubjectCF: "RSSMRA50B17AX58W", Types: []certificate.Type{certificate.Residenza}})
		check(t, err, cases[1].it, cases[1].en)
	})
	t.Run("clerk log-in", func(t *testing.T) {
		r := newRig(t, Operator)
		check(t, r.flow.LoginPassword(ctx, "RSSMRA50B17A558X", "password", "123456"), cases[0].it, cases[0].en)
	})
}

// TestPhraseArguments: a sentence given as an argument is written in the
// language of the sentence around it, and the caller's arguments are left
// as they were.
func TestPhraseArguments(t *testing.T) {
	cat, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	args := []any{"X", Phrase{Key: "cf_rule_other"}}
	if got := cat.T(English, "cf_invalid", args...); got != "X is not a valid codice fiscale: check it was copied correctly." {
		t.Errorf("English: %q", got)
	}
	if got := cat.T(Italian, "cf_invalid", args...); got != "X non è un codice fiscale valido: controlla di averlo copiato bene." {
		t.Errorf("Italian: %q", got)
	}
	if _, ok := args[1].(Phrase); !ok {
		t.Error("the caller's arguments were changed")
	}
}
