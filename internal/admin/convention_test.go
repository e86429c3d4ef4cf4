package admin

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/convention"
	"github.com/sportello/sportello/internal/operators"
)

// The operator page offers the convention kit to staff who may search the
// audit log, and the download holds the same files the command line
// writes, the shop's audit extract among them.
func TestConventionKitDownload(t *testing.T) {
	f := newFixture(t)
	for _, st := range []operators.Status{operators.Approved, operators.Active} {
		if _, err := f.ops.SetStatus(f.opID, st, "test", "kit"); err != nil {
			t.Fatal(err)
		}
	}
	code, _, err := f.ops.IssueCode(f.opID, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	dev, err := f.ops.Enrol(code, pub, "Cassa 1")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []audit.Entry{
		{Actor: audit.Actor{Kind: audit.Device, ID: dev.KeyID}, Subject: f.cf},
		{Actor: audit.Actor{Kind: audit.Staff, ID: "m.bianchi"}, Subject: "VRDGPP70C03F205Z"},
	} {
		e.Time, e.Purpose, e.Data, e.Channel = f.con.now(), "rilascio certificato anagrafico (art. 33 DPR 223/1989)", "certificato residenza", "counter"
		if err := f.con.reads().Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	u := f.srv.URL + "/admin/operators/" + f.opID + "/convention.zip"

	auditor, _ := f.login(t, "auditor")
	_, pg := get(t, auditor, f.srv.URL+"/admin/operators/"+f.opID)
	if !strings.Contains(pg, `href="/admin/operators/`+f.opID+`/convention.zip"`) || !strings.Contains(pg, "Scarica il kit della convenzione") {
		t.Errorf("the operator page offers no convention kit to an auditor")
	}
	resp, body := get(t, auditor, u)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("the download is not a zip: %v", err)
	}
	src, city, err := f.con.conventionSources()
	if err != nil {
		t.Fatal(err)
	}
	k, err := convention.Gather(src, city, f.opID, convention.Period{}, f.con.now())
	if err != nil {
		t.Fatal(err)
	}
	want, err := k.Files()
	if err != nil {
		t.Fatal(err)
	}
	dir := convention.DirName(f.opID, f.con.now())
	var got []string
	for _, zf := range zr.File {
		got = append(got, zf.Name)
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		i := slices.IndexFunc(want, func(w convention.File) bool { return dir+"/"+w.Name == zf.Name })
		if i < 0 || !bytes.Equal(want[i].Data, b.Bytes()) {
			t.Errorf("%s in the zip is not the kit's file", zf.Name)
		}
		if strings.HasPrefix(zf.Name, dir+"/registro-accessi-") && strings.HasSuffix(zf.Name, ".csv") {
			if !strings.Contains(b.String(), f.cf) || strings.Contains(b.String(), "VRDGPP70C03F205Z") {
				t.Errorf("the audit extract is not the shop's own:\n%s", b.String())
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("the zip holds %v, the kit %d files", got, len(want))
	}

	// A clerk of the city, who may not search the audit log, gets neither
	// the button nor the file.
	clerk, _ := f.login(t, "clerk")
	if _, pg := get(t, clerk, f.srv.URL+"/admin/operators/"+f.opID); strings.Contains(pg, "convention.zip") {
		t.Error("the operator page offers the kit to a clerk")
	}
	if resp, _ := get(t, clerk, u); resp.StatusCode != http.StatusForbidden {
		t.Errorf("clerk download: %s", resp.Status)
	}

	// A shop with no agreement has no kit: one sentence, in the page's language.
	bare := &operators.Operator{LegalName: "Cartoleria Senza", PartitaIVA: "12345680156", Category: operators.Cartoleria,
		Address: operators.Address{Street: "Via Padova", Number: "3", CAP: "20127", City: "Milano", Lat: 45.49, Lon: 9.22}}
	if err := f.ops.Add(bare, "test"); err != nil {
		t.Fatal(err)
	}
	resp, pg = get(t, auditor, f.srv.URL+"/admin/operators/"+bare.ID+"/convention.zip")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(pg, "non ha una convenzione") {
		t.Errorf("kit of a shop with no agreement: %s\n%s", resp.Status, pg)
	}
}
