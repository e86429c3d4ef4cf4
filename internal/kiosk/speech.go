package kiosk

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
)

// Steps lists every screen a flow can show, in the order a visit meets
// them; the accessibility tests walk it so a screen added later without a
// spoken text is noticed (its step must be added here).
var Steps = []Step{StepStart, StepLogin, StepIdentify, StepPIN, StepChoose, StepReview, StepWorking, StepDone,
	StepSummary, StepClaim, StepPlaces, StepAccessLog, StepTill, StepPay, StepCollect, StepDossier, StepDelegations, StepRequests, StepRequestFiled}

// Speech is what speech mode says of a screen. EN 301 549 V3.2.1 clause
// 5.1.3.1 asks a kiosk closed to screen readers to give every piece of
// visual information needed to use it as audio: the screen's title, what
// it says and what the citizen can do, in the screen's language (5.1.3.14).
type Speech struct {
	Lang  Lang
	Title string
	// Lines are what the screen says, in reading order: a refusal first
	// (5.1.3.15, non-visual error identification), then the content.
	Lines []string
	// Choices are the screen's actions and options, with the label the
	// screen shows; number key N picks Choices[N-1].
	Choices []string
	// Keys is the sentence that tells how to move and choose by keys.
	Keys string
}

// Text is the whole of it as one utterance: the title, the lines, each
// choice with its number key, and the keys.
func (s Speech) Text(cat *Catalog) string {
	var parts []string
	add := func(t string) {
		t = strings.TrimSpace(t)
		if t == "" {
			return
		}
		if !strings.ContainsAny(t[len(t)-1:], ".:;!?") {
			t += "."
		}
		parts = append(parts, t)
	}
	add(s.Title)
	for _, l := range s.Lines {
		add(l)
	}
	for i, c := range s.Choices {
		if i < 9 {
			add(cat.T(s.Lang, "speak_choice", i+1, c))
		} else {
			add(c)
		}
	}
	add(s.Keys)
	return SayAmounts(strings.Join(parts, " "), s.Lang)
}

// SpeakOptions are what the screen knows and the flow does not.
type SpeakOptions struct {
	// CF says the identified person's codice fiscale aloud: only when the
	// citizen asks for it (EN 301 549 5.1.3.9, private data spoken only
	// with the user's agreement). It is never spoken otherwise.
	CF bool
	// PINDigits is how many digits of the PIN are typed: speech says the
	// count, never the digits (5.1.3.8, masked entry).
	PINDigits int
	// Subject is the codice fiscale of the subject chosen on the choose
	// screen (the person identified when empty): the types offered are
	// those the hub said this subject may have, the others said missing
	// with the reason.
	Subject string
}

// Spoken is the speech of v's screen, built from the same catalogue keys
// the screen shows, so the two say the same thing. A step it does not know
// gives an empty Speech: the screen then reads its own labels.
func Spoken(v View, cat *Catalog, o SpeakOptions) Speech {
	t := func(key string, args ...any) string { return cat.T(v.Lang, key, args...) }
	s := Speech{Lang: v.Lang, Keys: t("speak_keys")}
	if v.Status.Suspended {
		s.Title = t("suspended_title")
		s.Lines = []string{t("suspended_body")}
		if v.Status.Notice != "" {
			s.Lines = append(s.Lines, t("suspended_reason", v.Status.Notice))
		} else {
			s.Lines = append(s.Lines, t("suspended_no_reason"))
		}
		s.Lines = append(s.Lines, t("suspended_call"), t("suspended_waiting"))
		s.Keys = ""
		return s
	}
	if v.Problem != nil {
		s.Lines = append(s.Lines, cat.Problem(v.Lang, v.Problem))
	}
	line := func(l ...string) { s.Lines = append(s.Lines, l...) }
	choice := func(c ...string) { s.Choices = append(s.Choices, c...) }
	places := func() {
		if v.HasPlaces {
			choice(t("places_button"))
		}
	}
	switch v.Step {
	case StepStart:
		s.Title = t("start_title")
		line(t("start_subtitle"), t("start_tap"))
		for _, l := range Langs {
			choice(t("lang_" + string(l)))
		}
		choice(t("start_button"), t("collect_button"))
		places()
	case StepPay, StepCollect:
		spokenPay(&s, v, t, line, choice)
	case StepLogin:
		s.Title = t("login_title")
		line(t("login_card_hint"), t("speak_fields", strings.Join([]string{t("login_pin")}, ", ")),
			t("login_password_title"), t("speak_fields", strings.Join([]string{t("login_cf"), t("login_password"), t("login_totp")}, ", ")))
		choice(t("login_button"), t("login_password_button"))
	case StepIdentify:
		s.Title = t("identify_title")
		line(t("identify_tap"), t("identify_or"), t("speak_fields", t("identify_cf")+", "+t("identify_document")), t("identify_claim"))
		choice(t("identify_tap_button"), t("identify_button"), t("claim_button"), t("summary_button"))
		if v.HasTill {
			choice(t("till_button", v.Status.TillPending))
		}
		places()
	case StepPIN:
		s.Title = t("pin_title")
		line(t("pin_hint"), t("speak_pin_typed", o.PINDigits))
		choice(t("pin_button"), t("cancel_button"))
		s.Keys = t("speak_keys_pin")
	case StepChoose:
		s.Title = t("choose_title")
		switch {
		case v.Person != nil && v.Person.Provisional != "":
			// A new customer served offline (offline.go), as the screen says.
			line(t("choose_hello_provisional"), t("choose_provisional_"+v.Mode.Key()))
		case v.Person != nil:
			line(t(v.Greeting, v.Person.Name()))
		}
		if v.Person != nil {
			if o.CF {
				line(t("speak_cf", Spell(v.Person.CF, v.Lang)))
			}
		}
		line(t("choose_types"))
		// As the screen shows them for the subject chosen (the requester
		// at first): only what the hub said they may have, then why each
		// other type is missing.
		subject := o.Subject
		if subject == "" && v.Person != nil {
			subject = v.Person.CF
		}
		elig := v.Person.EligibilityOf(subject)
		for _, ty := range v.Types {
			if elig.Why(ty) == "" {
				choice(t("type_" + string(ty)))
			}
		}
		for _, ty := range v.Types {
			if why := elig.Why(ty); why != "" {
				line(t("type_"+string(ty)) + ": " + cat.HubReason(v.Lang, why, ""))
			}
		}
		if v.Person != nil {
			line(t("choose_subject"))
			self := "choose_self"
			if v.Mode == Operator {
				self = "choose_requester"
			}
			name := v.Person.Name()
			if v.Person.Provisional != "" {
				name = v.Person.ProvisionalLabel()
			}
			choice(t(self, name))
			for _, m := range v.Person.Family {
				choice(m.Name())
			}
			if v.Mode == Operator {
				choice(t("identify_cf") + "…") // anyone else, by codice fiscale
			}
		}
		line(t("choose_purpose"))
		choice(t("purpose_bollo"), t("purpose_exempt"))
		if v.Mode == Operator {
			choice(t("purpose_contrassegno"))
		}
		choice(t("choose_button"), t("back_button"), t("access_log_button"), t("dossier_button"))
	case StepReview:
		s.Title = t("review_title")
		line(t("review_subject") + ": " + v.Subject)
		var names []string
		for _, ty := range v.Choice.Types {
			names = append(names, t("type_"+string(ty)))
		}
		line(t("review_certificates") + ": " + strings.Join(names, ", "))
		if us := certificate.Use(v.Choice.Use); us != certificate.UseOrdinary && v.Choice.Use != "" {
			line(t("review_use") + ": " + t("use_"+us.String()))
		}
		if ex := v.Choice.Exemption; ex.Code != 0 {
			// The exemption chosen, as the review shows it.
			words := strconv.Itoa(ex.Code)
			if k := "exemption_reason_" + words; cat.Has(v.Lang, k) {
				words += ", " + t(k)
			}
			if ex.Text != "" {
				words += ": " + ex.Text
			}
			line(t("review_exemption") + ": " + words)
		}
		if v.Choice.Contrassegno != "" {
			line(t("review_contrassegno") + " " + Spell(v.Choice.Contrassegno, v.Lang))
		}
		if v.Choice.At != "" {
			line(t("review_at") + ": " + SayDate(v.Choice.At, v.Lang))
		}
		if v.Preview != nil {
			for _, l := range v.Preview.Lines {
				amount := t("fee_exempt")
				if l.Cents != 0 {
					amount = EuroWords(l.Cents, v.Lang)
				}
				label := l.Label
				if cat.Has(v.Lang, "fee_"+string(l.Kind)) {
					label = t("fee_" + string(l.Kind))
				}
				line(label + ": " + amount)
			}
			line(t("review_total") + ": " + EuroWords(v.Preview.TotalCents, v.Lang))
		}
		choice(t("confirm_button"), t("back_button"))
	case StepWorking:
		s.Title = t("working_title")
		if v.Progress.Key != "" {
			line(t(v.Progress.Key))
		}
		s.Keys = ""
	case StepDone:
		next := t("next_button")
		if v.Mode == SelfService {
			next = t("finish_button")
		}
		switch {
		case v.Result == nil:
			s.Title = t("done_title")
			choice(next)
			return s
		case v.Result.Issued == nil:
			s.Title = t("done_queued_title")
			queued, printed := "done_queued", "done_claim_printed"
			if v.Person != nil && v.Person.Provisional != "" {
				queued, printed = "done_queued_identity_"+v.Mode.Key(), "done_claim_printed_identity_"+v.Mode.Key()
			}
			if v.Mode == SelfService {
				printed = "done_claim_collect" // collected here with the card (collect.go)
				if v.Result.Paid {
					printed = "done_claim_collect_paid"
				}
			}
			line(t(queued), t("done_claim", Spell(v.Result.Claim, v.Lang)), t(printed))
		default:
			is := v.Result.Issued
			s.Title = t("done_title")
			line(t("done_protocol", SayProtocol(is.Protocol, v.Lang)), is.Title, v.Subject,
				t("review_total")+": "+EuroWords(is.TotalCents, v.Lang))
			if v.Mode == Operator {
				choice(t("reprint_button"), t("reprint_receipt_button"), next)
				return s
			}
		}
		choice(t("reprint_button"), next)
	case StepSummary:
		if v.Summary == nil {
			return s
		}
		sm := v.Summary
		s.Title = t("summary_title", SayDate(sm.Day.In(protocol.Rome).Format("2006-01-02"), v.Lang))
		line(fmt.Sprintf("%s: %d", t("summary_transactions"), sm.Transactions), fmt.Sprintf("%s: %d", t("summary_certificates"), sm.Certificates),
			t("summary_collected")+": "+EuroWords(sm.Collected, v.Lang))
		line(t("summary_method_counter") + ": " + EuroWords(sm.ByMethod[MethodCounter], v.Lang))
		if v.HasTill || sm.TillPayments > 0 {
			line(t("summary_method_till", sm.TillPayments) + ": " + EuroWords(sm.ByMethod[MethodTill], v.Lang))
		}
		if sm.ByMethod[MethodPagoPA] > 0 {
			line(t("summary_method_pagopa") + ": " + EuroWords(sm.ByMethod[MethodPagoPA], v.Lang))
		}
		choice(t("back_button"))
	case StepTill:
		s.Title = t("till_title")
		line(t("till_hint"))
		if v.Till != nil {
			if c := v.Till.Confirmed; c != nil {
				line(t("till_confirmed", Spell(c.Code, v.Lang), EuroWords(c.AmountCents, v.Lang), strings.Join(c.Types, ", ")))
			}
			if len(v.Till.Pending) == 0 {
				line(t("till_empty"))
			}
			for _, p := range v.Till.Pending {
				line(Spell(p.Code, v.Lang) + ": " + EuroWords(p.AmountCents, v.Lang))
			}
		}
		line(t("speak_fields", t("till_code")))
		choice(t("till_confirm_button"), t("back_button"), t("till_refresh_button"))
	case StepClaim:
		if v.Claimed == nil {
			return s
		}
		c := v.Claimed
		s.Title = t("claim_title", Spell(c.Code, v.Lang))
		when := SayDate(c.Queued.In(protocol.Rome).Format("2006-01-02"), v.Lang)
		switch c.State {
		case ClaimQueued:
			line(t("claim_queued", when))
		case ClaimRefused:
			// The catalogue's sentence for the hub's reason, never its
			// English message (issue 15 item 3).
			why := cat.HubReason(v.Lang, c.Reason, c.Message)
			line(t("claim_refused", when, why, EuroWords(c.AmountCents, v.Lang)))
		default:
			prot := ""
			if c.Issued != nil {
				prot = SayProtocol(c.Issued.Protocol, v.Lang)
			}
			line(t("claim_issued_no_copy", prot))
		}
		choice(t("back_button"))
	case StepPlaces:
		s.Title = t("places_title")
		if v.Places != nil {
			if slices.ContainsFunc(v.Places.Places, func(p Place) bool { return p.TotalCents != nil }) {
				line(t("places_price_note"))
			}
			for _, p := range v.Places.Places {
				state := t("places_closed")
				if p.Open {
					state = t("places_open")
				}
				far := t("speak_metres", roundedMetres(p.DistanceM))
				if roundedMetres(p.DistanceM) >= 1000 {
					far = t("speak_kilometres", Kilometres(p.DistanceM, v.Lang))
				}
				line(fmt.Sprintf("%s, %s, %s, %s", p.Name, state, far, p.Address))
				// What the screen says under it: the certificates issued
				// there and the price, in words.
				if len(p.Types) > 0 {
					names := make([]string, 0, len(p.Types))
					for _, ty := range p.Types {
						names = append(names, t("type_"+ty))
					}
					line(t("places_types", strings.Join(names, ", ")))
				}
				if p.TotalCents != nil {
					line(t("places_total", EuroWords(*p.TotalCents, v.Lang)))
				}
			}
		}
		choice(t("back_button"))
	case StepAccessLog:
		l := v.AccessLog
		if l == nil {
			return s
		}
		s.Title = t("access_log_title", l.Name)
		line(t("access_log_period", SayDate(l.From, v.Lang), SayDate(l.To, v.Lang), l.Total))
		if len(l.Lines) == 0 {
			line(t("access_log_empty"))
		}
		for _, ln := range l.Lines {
			kind := ln.Kind
			if cat.Has(v.Lang, "access_log_kind_"+ln.Kind) {
				kind = t("access_log_kind_" + ln.Kind)
			}
			line(fmt.Sprintf("%s, %s, %s. %s. %s", SayDate(ln.Time.In(protocol.Rome).Format("2006-01-02"), v.Lang), kind, ln.Place, ln.What,
				t("access_log_why", ln.Why)))
		}
		line(t("access_log_page", l.Page, l.Pages))
		choice(t("access_log_close"))
		if l.Page > 1 {
			choice(t("access_log_newer"))
		}
		if l.Page < l.Pages {
			choice(t("access_log_older"))
		}
		if v.Mode == Operator {
			choice(t("access_log_print"))
		}
	case StepDelegations:
		l := v.Delegations
		if l == nil {
			return s
		}
		s.Title = t("delegations_title", l.Name)
		for _, side := range []struct {
			key string
			ds  []api.Delegation
		}{{"delegations_given", l.Given}, {"delegations_received", l.Received}} {
			line(t(side.key, len(side.ds)))
			for _, d := range side.ds {
				who := nameOrCF(d.DelegateName, d.DelegateCF)
				if side.key == "delegations_received" {
					who = nameOrCF(d.DelegatorName, d.DelegatorCF)
				}
				line(t("delegations_line", who, SayDate(d.Until, v.Lang), d.State, len(d.Uses)))
			}
		}
		for _, d := range l.Given {
			if d.State == DelegationActive {
				choice(t("delegations_revoke_one", nameOrCF(d.DelegateName, d.DelegateCF)))
			}
		}
		line(t("delegations_give"))
		for _, ty := range DelegableCertificates() {
			choice(t("type_" + string(ty)))
		}
		for _, k := range DelegableRequests() {
			choice(t("request_kind_" + k))
		}
		choice(t("delegations_scope_appointments"), t("delegations_give_button"), t("back_button"))
	case StepRequests:
		s.Title = t("requests_title")
		line(t("requests_not_here"))
		for _, k := range KioskKinds() {
			choice(t("request_kind_" + string(k)))
		}
		line(t("requests_fields"))
		choice(t("requests_what_"+HistoricalResidence), t("requests_what_"+HistoricalFamily), t("requests_statement"), t("requests_statement_check"),
			t("requests_file_button"), t("back_button"))
	case StepRequestFiled:
		r := v.Filed
		if r == nil {
			return s
		}
		s.Title = t("requests_filed_title")
		line(r.Title, t("requests_filed_protocol", r.Protocol, SayDate(r.Filed.In(protocol.Rome).Format("2006-01-02"), v.Lang)), t("requests_filed_status", r.StatusText))
		choice(t("requests_another"), t("back_button"))
	case StepDossier:
		d := v.Dossier
		if d == nil {
			return s
		}
		s.Title = t("dossier_title", d.Person.Surname+" "+d.Person.GivenNames)
		line(t("dossier_address", d.Person.Address), t("dossier_household", len(d.Household)))
		for _, doc := range d.Documents {
			line(t("dossier_document", doc.Number, SayDate(doc.Expires, v.Lang)))
		}
		line(t("dossier_counts", len(d.Certificates), len(d.Requests), len(d.Appointments), len(d.DelegationsGiven), len(d.DelegationsReceived), d.AccessTotal))
		choice(t("delegations_button"), t("requests_button"))
		if v.Mode == Operator {
			choice(t("dossier_print"))
		}
		choice(t("back_button"))
	default:
		return Speech{Lang: v.Lang}
	}
	return s
}

// SpokenIdle is what speech mode says when the idle countdown starts: the
// question, the seconds left and how to keep the session.
func SpokenIdle(v View, cat *Catalog) string {
	secs := int((v.IdleLeft + time.Second - 1) / time.Second)
	return cat.T(v.Lang, "idle_title") + " " + cat.T(v.Lang, "idle_left", secs) + " " + cat.T(v.Lang, "speak_idle_keys")
}

var (
	monthsIT = []string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}
	monthsEN = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

// SayDate writes a YYYY-MM-DD date as a synthesiser reads it well:
// "17 febbraio 1950", "17 February 1950" (digits and slashes come out as
// "diciassette barra zero due"); anything else unchanged.
func SayDate(s string, lang Lang) string {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return s
	}
	months := monthsIT
	if lang == English {
		months = monthsEN
	}
	day := strconv.Itoa(d.Day())
	if lang == Italian && d.Day() == 1 {
		day = "1º" // "primo", as Italian says the first of the month
	}
	return fmt.Sprintf("%s %s %d", day, months[d.Month()-1], d.Year())
}

// EuroWords says an amount of cents as words a synthesiser says well:
// "18 euro e 52 centesimi", "18 euros and 52 cents". The figures stay
// digits: espeak-ng reads numbers in either language; what it reads badly
// is "18,52 EUR" (the comma, the currency code).
func EuroWords(cents int64, lang Lang) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	e, c := cents/100, cents%100
	var parts []string
	if lang == English {
		if e > 0 || c == 0 {
			parts = append(parts, fmt.Sprintf("%d %s", e, plural(e, "euro", "euros")))
		}
		if c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, plural(c, "cent", "cents")))
		}
		s := strings.Join(parts, " and ")
		if neg {
			s = "minus " + s
		}
		return s
	}
	if e > 0 || c == 0 {
		parts = append(parts, fmt.Sprintf("%d euro", e)) // "euro" is invariable in Italian
	}
	if c > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", c, plural(c, "centesimo", "centesimi")))
	}
	s := strings.Join(parts, " e ")
	if neg {
		s = "meno " + s
	}
	return s
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// amountRE is an amount as the screens write it (fees.Euro and the
// catalogue): "16,00 EUR", "1.234,56 EUR", "16.00 EUR".
var amountRE = regexp.MustCompile(`(\d{1,3}(?:[.,]\d{3})*)[.,](\d{2}) ?(?:EUR|€)`)

// SayAmounts rewrites every amount written as on the screens in s into
// words (EuroWords), so a catalogue sentence with "16,00 EUR" is said as
// "16 euro".
func SayAmounts(s string, lang Lang) string {
	return amountRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := amountRE.FindStringSubmatch(m)
		units := strings.NewReplacer(".", "", ",", "").Replace(sub[1])
		e, err1 := strconv.ParseInt(units, 10, 64)
		c, err2 := strconv.ParseInt(sub[2], 10, 64)
		if err1 != nil || err2 != nil {
			return m
		}
		return EuroWords(e*100+c, lang)
	})
}

// Spell says a code character by character (a claim code, a codice
// fiscale, a contrassegno), the dashes named, so that a listener can write
// it down: "K, 7, Q, X, trattino, M, 2, P, A".
func Spell(code string, lang Lang) string {
	var out []string
	for _, r := range strings.TrimSpace(code) {
		switch {
		case r == '-':
			out = append(out, map[Lang]string{Italian: "trattino", English: "dash"}[lang])
		case r == '/':
			out = append(out, map[Lang]string{Italian: "barra", English: "slash"}[lang])
		case unicode.IsSpace(r):
		default:
			out = append(out, string(unicode.ToUpper(r)))
		}
	}
	return strings.Join(out, ", ")
}

// SayProtocol says a protocol number "2026/0000042" as "42 del 2026" /
// "42 of 2026": the register's progressive number and its year, as an
// Italian office reads it aloud.
func SayProtocol(p string, lang Lang) string {
	year, num, ok := strings.Cut(p, "/")
	n, err := strconv.Atoi(num)
	if !ok || err != nil {
		return Spell(p, lang)
	}
	if lang == English {
		return fmt.Sprintf("%d of %s", n, year)
	}
	return fmt.Sprintf("%d del %s", n, year)
}
