package audit

import (
	"encoding/binary"
	"errors"
	"testing"
)

// An entry without a clerk must encode exactly as entries did before
// clerks existed, field by field, or every chain written until then would
// stop verifying.
func TestEntryWithoutClerkEncodesAsBefore(t *testing.T) {
	e := entry(3)
	e.Seq = 7
	want := []byte{version}
	want = binary.BigEndian.AppendUint64(want, 7)
	want = binary.BigEndian.AppendUint64(want, uint64(e.Time.UnixNano()))
	for _, s := range []string{string(e.Actor.Kind), e.Actor.ID, e.Purpose, e.Subject, e.Data, e.Channel, e.Request} {
		want = binary.AppendUvarint(want, uint64(len(s)))
		want = append(want, s...)
	}
	if got := e.AppendCanonical(nil); string(got) != string(want) {
		t.Fatalf("canonical encoding changed for an entry with no clerk:\n got %x\nwant %x", got, want)
	}
}

func TestEntryWithClerk(t *testing.T) {
	plain := entry(2)
	named := entry(2)
	named.Clerk = Clerk{ID: "cl-0001", Name: "Mario Rossi"}
	rec, h, err := Next(Head{}, &named)
	if err != nil {
		t.Fatal(err)
	}
	got, stored, err := Decode(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got.Clerk != named.Clerk || stored != h.Hash || Link(Hash{}, &got) != stored {
		t.Fatalf("decoded clerk %+v, hash %v; want %+v, %v", got.Clerk, stored, named.Clerk, h.Hash)
	}
	_, hp, _ := Next(Head{}, &plain)
	if hp.Hash == h.Hash {
		t.Error("naming a clerk does not change the entry's hash")
	}
	// Only the clerk's id after the request: not what Next writes.
	body := plain.AppendCanonical(nil)
	body = binary.AppendUvarint(body, 7)
	body = append(body, "cl-0001"...)
	var x Hash
	if _, _, err := Decode(append(body, x[:]...)); !errors.Is(err, ErrDamaged) {
		t.Errorf("a record with half a clerk: err %v, want ErrDamaged", err)
	}
	// An empty clerk id written out is not canonical either.
	body = plain.AppendCanonical(nil)
	body = binary.AppendUvarint(body, 0)
	body = binary.AppendUvarint(body, 0)
	if _, _, err := Decode(append(body, x[:]...)); !errors.Is(err, ErrDamaged) {
		t.Errorf("a record with an empty clerk: err %v, want ErrDamaged", err)
	}
	bad := entry(1)
	bad.Clerk = Clerk{Name: "Nobody"}
	if _, _, err := Next(Head{}, &bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("a clerk with a name and no id: err %v, want ErrInvalid", err)
	}
	q := Query{Actor: "clerk:cl-0001"}
	if !q.Match(&named) || q.Match(&plain) {
		t.Error("--actor clerk:cl-0001 does not select exactly the entry naming that clerk")
	}
}
