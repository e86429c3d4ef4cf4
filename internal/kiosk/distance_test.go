package kiosk

import (
	"strings"
	"testing"

	"github.com/sportello/sportello/assets"
)

// TestDistance: one decimal from 1 km, in the language's notation;
// metres, rounded to ten, below.
func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		m      int
		it, en string
	}{
		{0, "0 m", "0 m"},
		{454, "450 m", "450 m"},
		{995, "1,0 km", "1.0 km"},
		{1250, "1,3 km", "1.3 km"},
		{1349, "1,3 km", "1.3 km"},
		{3100, "3,1 km", "3.1 km"},
		{12345, "12,3 km", "12.3 km"},
	} {
		if got := Distance(tt.m, Italian); got != tt.it {
			t.Errorf("%d m in Italian: %q, want %q", tt.m, got, tt.it)
		}
		if got := Distance(tt.m, English); got != tt.en {
			t.Errorf("%d m in English: %q, want %q", tt.m, got, tt.en)
		}
	}
}

// TestSpokenPlaces: speech mode says what the directory shows — each
// place's distance as words read it, the certificates it issues and its
// price in words, and once what the price is.
func TestSpokenPlaces(t *testing.T) {
	cat, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	total := int64(1852)
	d := &Directory{Places: []Place{
		{Name: "Tabacchi Loreto", DistanceM: 454, Open: true, Address: "Piazzale Loreto 9", Types: []string{"residenza", "stato_di_famiglia"}, TotalCents: &total},
		{Name: "Anagrafe centrale", DistanceM: 1349, Address: "Via Larga 12"},
	}}
	for _, tt := range []struct {
		lang Lang
		want []string
	}{
		{Italian, []string{"a 450 metri", "a 1,3 chilometri", "Rilascia: Residenza, Stato di famiglia", "costa qui " + EuroWords(1852, Italian), "Il prezzo è quanto si paga in tutto"}},
		{English, []string{"450 metres away", "1.3 kilometres away", "Issues: Residence, Family composition", "costs " + EuroWords(1852, English), "The price is what you pay in all"}},
	} {
		s := Spoken(View{Step: StepPlaces, Lang: tt.lang, Places: d}, cat, SpeakOptions{}).Text(cat)
		for _, w := range tt.want {
			if !strings.Contains(s, w) {
				t.Errorf("%s: %q not said in %q", tt.lang, w, s)
			}
		}
	}
}
