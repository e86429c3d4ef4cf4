package kiosk

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/assets"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
)

// tellEligibility makes the fake hub's look-up answer that Mario may not
// have cittadinanza (two citizenships) and Maria may not have nascita
// (born and living abroad), the rest being allowed.
func tellEligibility(r *rig) {
	for _, p := range r.hub.persons {
		p.Eligibility = Eligibility{Told: true, Missing: []Missing{{certificate.Cittadinanza, certificate.ReasonSeveralCitizenships}}}
		p.Family = []Member{p.Family[0]}
		p.Family[0].Eligibility = Eligibility{Told: true, Missing: []Missing{{certificate.Nascita, certificate.ReasonBornAbroadAIRE}}}
	}
}

// TestChooseRefusals: Choose refuses, before any fee is shown, each choice
// the choose screen keeps from being ticked, with the reason the screen
// gives: a type the hub said this subject may not have (per subject),
// types that cannot share a certificate, a use that wants an exemption
// the purpose does not give, a contrassegno on an exempt request, and
// "Esente da bollo" without its reason. The refusal leaves the flow on the
// choose screen with no preview; the allowed choice goes on to review.
func TestChooseRefusals(t *testing.T) {
	res := []certificate.Type{certificate.Residenza}
	for _, tt := range []struct {
		name   string
		choice Choice
		want   string
	}{
		{"a type the hub said Mario may not have", Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza, certificate.Cittadinanza}}, "hub_" + certificate.ReasonSeveralCitizenships},
		{"a type the hub said Maria may not have", Choice{SubjectCF: cfMaria, Types: []certificate.Type{certificate.Nascita}}, "hub_" + certificate.ReasonBornAbroadAIRE},
		{"a historical type beside a current one", Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza, certificate.ResidenzaStorica}, At: "2015-03-31"}, "hub_" + certificate.ReasonIncompatibleTypes},
		{"stato libero beside stato civile", Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.StatoLibero, certificate.StatoCivile}}, "hub_" + certificate.ReasonIncompatibleTypes},
		{"two household tables", Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.StatoDiFamiglia, certificate.StatoDiFamigliaConParentela}}, "hub_" + certificate.ReasonIncompatibleTypes},
		{"exempt without a reason", Choice{SubjectCF: cfMario, Types: res, Exempt: true}, "exemption_reason_required"},
		{"a court case in bollo", Choice{SubjectCF: cfMario, Types: res, Use: string(certificate.UseGiudiziario)}, "fee_" + certificate.ReasonUseConflictsExemption},
		{"a court case under a pension's exemption", Choice{SubjectCF: cfMario, Types: res, Use: string(certificate.UseGiudiziario), Exempt: true, Exemption: fees.Exemption{Code: 9}}, "fee_" + certificate.ReasonUseConflictsExemption},
		{"a contrassegno on an exempt request", Choice{SubjectCF: cfMario, Types: res, Exempt: true, Exemption: fees.Exemption{Code: 3}, Contrassegno: "01234567890123"}, "fee_" + fees.ReasonContrassegnoExempt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, Operator)
			tellEligibility(r)
			identified(r)
			err := r.flow.Choose(tt.choice)
			var p *Problem
			if !errors.As(err, &p) || p.Key != tt.want {
				t.Fatalf("Choose: %v, want problem %s", err, tt.want)
			}
			r.step(t, StepChoose)
			if v := r.flow.View(); v.Preview != nil || v.Problem == nil || v.Problem.Key != tt.want {
				t.Errorf("after the refusal: preview %v, problem %v", v.Preview, v.Problem)
			}
		})
	}
	// What the hub allows goes to review: the same type for the other
	// subject, and an exemption with its reason, which the review shows.
	for _, c := range []Choice{
		{SubjectCF: cfMaria, Types: []certificate.Type{certificate.Cittadinanza}},
		{SubjectCF: cfMario, Types: res, Exempt: true, Exemption: fees.Exemption{Code: 3}, Use: string(certificate.UseGiudiziario)},
	} {
		r := newRig(t, Operator)
		tellEligibility(r)
		identified(r)
		if err := r.flow.Choose(c); err != nil {
			t.Fatalf("Choose(%+v): %v", c, err)
		}
		r.step(t, StepReview)
		if v := r.flow.View(); v.Choice.Exemption != c.Exemption || v.Preview == nil {
			t.Errorf("review of %+v: %+v", c, v.Choice)
		}
	}
}

// TestChooseWithoutEligibility: a hub that says nothing of eligibility
// (an older one) leaves every type to its own decision at issue.
func TestChooseWithoutEligibility(t *testing.T) {
	r := newRig(t, Operator)
	identified(r)
	if err := r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Cittadinanza}}); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepReview)
}

// TestEligibilitySpoken: speech mode says of the choose screen what it
// shows: the types the requester may have as choices, each missing one
// with the catalogue's reason and not as a choice; the review says the
// exemption chosen.
func TestEligibilitySpoken(t *testing.T) {
	cat, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, Operator)
	tellEligibility(r)
	identified(r)
	for _, lang := range Langs {
		r.flow.SetLang(lang)
		s := Spoken(r.flow.View(), cat, SpeakOptions{})
		cittadinanza := cat.T(lang, "type_"+string(certificate.Cittadinanza))
		if slices.Contains(s.Choices, cittadinanza) || !slices.Contains(s.Choices, cat.T(lang, "type_"+string(certificate.Residenza))) {
			t.Errorf("%s: choices %q", lang, s.Choices)
		}
		if !slices.ContainsFunc(s.Lines, func(l string) bool {
			return strings.HasPrefix(l, cittadinanza+": ") && strings.Contains(l, cat.HubReason(lang, certificate.ReasonSeveralCitizenships, ""))
		}) {
			t.Errorf("%s: lines %q do not say why cittadinanza is missing", lang, s.Lines)
		}
	}
	if err := r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Exempt: true, Exemption: fees.Exemption{Code: 3}}); err != nil {
		t.Fatal(err)
	}
	text := Spoken(r.flow.View(), cat, SpeakOptions{}).Text(cat)
	if !strings.Contains(text, cat.T(English, "exemption_reason_3")) {
		t.Errorf("the review's speech does not say the exemption: %q", text)
	}
}
