package metricsdoc

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	ms, err := Parse(strings.NewReader("# x\n\n| Metric | Type | Labels | Meaning |\n|---|---|---|---|\n" +
		"| `sportello_a_total` | counter | `reason`, `code` | A. |\n| `sportello_b` | gauge | — | B. |\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Name != "sportello_a_total" || !slices.Equal(ms[0].Labels, []string{"code", "reason"}) || ms[1].Labels != nil || ms[1].Type != "gauge" {
		t.Errorf("got %+v", ms)
	}
	for _, bad := range []string{
		"| `sportello_a` | gauge | — | A. |\n| `sportello_a` | gauge | — | A. |\n",
		"| `sportello_a` | histogram | — | A. |\n",
		"| `sportello_a` | gauge | — |  |\n",
		"nothing here\n",
	} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestExposed(t *testing.T) {
	got, err := Exposed("# HELP sportello_x X.\n# TYPE sportello_x counter\nsportello_x{code=\"2xx\",b=\"1\"} 3\nsportello_x{code=\"4xx\",b=\"2\"} 0\n# TYPE sportello_y gauge\nsportello_y 1\n")
	if err != nil {
		t.Fatal(err)
	}
	if x := got["sportello_x"]; x.Type != "counter" || !slices.Equal(x.Labels, []string{"b", "code"}) {
		t.Errorf("sportello_x: %+v", x)
	}
	if y := got["sportello_y"]; y.Type != "gauge" || y.Labels != nil {
		t.Errorf("sportello_y: %+v", y)
	}
	if _, err := Exposed("sportello_z 1\n"); err == nil {
		t.Error("a sample without its TYPE line: no error")
	}
}
