package certbolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
)

// The staff's search indexes:
//
//	cert_cfs        CF ‖ 0x00 ‖ YYYYMMDD ‖ seq ‖ id → roles ("s" subject,
//	                "r" requester, "sr" both)
//	cert_protocols  YYYY ‖ seq → id
//
// A clerk finds a certificate by the codice fiscale of the person it is
// about or of the person who asked for it, or by the protocol number
// printed on it. Both indexes are kept by Issue and by retention's purge.
//
// Files written before these indexes existed get them built once, inside
// the write transaction of Init when the hub opens its file: the buckets'
// absence is the marker, and the build commits with their creation, so a
// crash leaves either no index (built again at the next open) or a whole
// one. Rebuilding once beats scanning at each search: a hub keeps 36
// months of records (hundreds of thousands), and a scan would read them
// all for every clerk's look-up. A file opened only for reading by an
// older process is the one case left without them: the look-ups then
// scan (scanCF, scanProtocol), slowly but correctly.
var (
	bucketCFs       = []byte("cert_cfs")
	bucketProtocols = []byte("cert_protocols")
)

func cfPrefix(cf string) []byte { return append([]byte(cf), 0) }

func protocolKey(n protocol.Number) []byte {
	return binary.BigEndian.AppendUint64(fmt.Appendf(nil, "%04d", n.Year), n.Seq)
}

// initSearch creates the search indexes and, when they did not exist yet,
// fills them from the certificates already in the file.
func initSearch(tx *bbolt.Tx) error {
	if tx.Bucket(bucketCFs) != nil && tx.Bucket(bucketProtocols) != nil {
		return nil
	}
	for _, name := range [][]byte{bucketCFs, bucketProtocols} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("cannot create the certificates' bucket %q: %w", name, err)
		}
	}
	days := tx.Bucket(bucketDays)
	c := days.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		day, n, id, err := splitDayKey(k)
		if err != nil {
			return err
		}
		r, err := Get(tx, id)
		if err != nil {
			return fmt.Errorf("building the search index: %w", err)
		}
		if err := indexSearch(tx, &r, day, n); err != nil {
			return err
		}
	}
	return nil
}

// splitDayKey reads a cert_days key. The protocol year is the day's year:
// numbering restarts on 1 January in Rome, and days are Rome's.
func splitDayKey(k []byte) (protocol.Day, protocol.Number, string, error) {
	if len(k) <= 16 {
		return protocol.Day{}, protocol.Number{}, "", fmt.Errorf("the certificates' day index holds a damaged key %x", k)
	}
	d, err := protocol.ParseDay(string(k[:4]) + "-" + string(k[4:6]) + "-" + string(k[6:8]))
	if err != nil {
		return d, protocol.Number{}, "", fmt.Errorf("the certificates' day index holds a damaged key %x: %w", k, err)
	}
	return d, protocol.Number{Year: d.Year, Seq: binary.BigEndian.Uint64(k[8:16])}, string(k[16:]), nil
}

// searchKeys are r's keys in cert_cfs with their roles.
func searchKeys(r *certificate.Record, day protocol.Day, n protocol.Number) map[string]string {
	roles := map[string]string{}
	if cf := strings.ToUpper(r.SubjectCF); cf != "" {
		roles[cf] += "s"
	}
	if cf := strings.ToUpper(r.RequesterCF); cf != "" {
		roles[cf] += "r"
	}
	keys := map[string]string{}
	for cf, role := range roles {
		keys[string(indexKey(cfPrefix(cf), day, n, r.ID))] = role
	}
	return keys
}

func indexSearch(tx *bbolt.Tx, r *certificate.Record, day protocol.Day, n protocol.Number) error {
	cfs := tx.Bucket(bucketCFs)
	for k, role := range searchKeys(r, day, n) {
		if err := cfs.Put([]byte(k), []byte(role)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketProtocols).Put(protocolKey(n), []byte(r.ID))
}

func unindexSearch(tx *bbolt.Tx, r *certificate.Record, day protocol.Day, n protocol.Number) error {
	cfs, prots := tx.Bucket(bucketCFs), tx.Bucket(bucketProtocols)
	if cfs == nil || prots == nil {
		return nil // a file opened before the indexes: nothing to remove
	}
	for k := range searchKeys(r, day, n) {
		if err := cfs.Delete([]byte(k)); err != nil {
			return err
		}
	}
	if bytes.Equal(prots.Get(protocolKey(n)), []byte(r.ID)) {
		return prots.Delete(protocolKey(n))
	}
	return nil
}

// ByCF returns the certificates whose subject or requester has codice
// fiscale cf, newest first, at most limit of them (all with 0).
func ByCF(tx *bbolt.Tx, cf string, limit int) ([]certificate.Record, error) {
	cf = strings.ToUpper(strings.TrimSpace(cf))
	if cf == "" {
		return nil, errors.New("a codice fiscale is needed to list its certificates")
	}
	b := tx.Bucket(bucketCFs)
	if b == nil {
		return scanCF(tx, cf, limit)
	}
	p := cfPrefix(cf)
	end := append([]byte(cf), 1)
	var out []certificate.Record
	c := b.Cursor()
	k, _ := c.Seek(end)
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, p) && (limit == 0 || len(out) < limit); k, _ = c.Prev() {
		id := string(k[len(p)+16:])
		r, err := Get(tx, id)
		if err != nil {
			return nil, fmt.Errorf("index %s names certificate %q: %w", bucketCFs, id, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// scanCF is ByCF over every record, newest first.
func scanCF(tx *bbolt.Tx, cf string, limit int) ([]certificate.Record, error) {
	var out []certificate.Record
	err := scanDays(tx, func(r *certificate.Record, _ protocol.Number) bool {
		if strings.EqualFold(r.SubjectCF, cf) || strings.EqualFold(r.RequesterCF, cf) {
			out = append(out, *r)
		}
		return limit == 0 || len(out) < limit
	})
	return out, err
}

// scanDays calls fn with each record of the day index, newest first,
// until fn says stop.
func scanDays(tx *bbolt.Tx, fn func(*certificate.Record, protocol.Number) bool) error {
	b := tx.Bucket(bucketDays)
	if b == nil {
		return fmt.Errorf("%w: call certbolt.Init when opening the hub's file", ErrNotInitialised)
	}
	c := b.Cursor()
	for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
		_, n, id, err := splitDayKey(k)
		if err != nil {
			return err
		}
		r, err := Get(tx, id)
		if err != nil {
			return err
		}
		if !fn(&r, n) {
			return nil
		}
	}
	return nil
}

// ByProtocol returns the certificate registered with number n. A number
// given with its register's codes finds only the certificate registered
// under those codes: the same year and progressive in another register
// (the comune's general register, say) is another document. A bare
// "2026/0000123" finds the certificate with that progressive whatever its
// codes, the progressive being unique in the year (protocol.Number).
func ByProtocol(tx *bbolt.Tx, n protocol.Number) (certificate.Record, error) {
	b := tx.Bucket(bucketProtocols)
	var r certificate.Record
	var err error
	if b == nil {
		r, err = scanProtocol(tx, n)
	} else if id := b.Get(protocolKey(n)); id == nil {
		err = fmt.Errorf("%w: no certificate has protocol number %s", ErrNotFound, n)
	} else {
		r, err = Get(tx, string(id))
	}
	// The codes compare without case: IPA's codes identify an
	// administration and its AOO whatever their case (IPA's own search
	// ignores it), and a clerk may type the printed "c_f205" as "C_F205".
	if err == nil && !n.Register.IsZero() && !strings.EqualFold(r.Protocol, n.String()) {
		return certificate.Record{}, fmt.Errorf("%w: no certificate has protocol number %s", ErrNotFound, n)
	}
	return r, err
}

func scanProtocol(tx *bbolt.Tx, n protocol.Number) (certificate.Record, error) {
	var found *certificate.Record
	err := scanDays(tx, func(r *certificate.Record, m protocol.Number) bool {
		if m.Same(n) {
			found = r
		}
		return found == nil
	})
	if err == nil && found == nil {
		err = fmt.Errorf("%w: no certificate has protocol number %s", ErrNotFound, n)
	}
	if err != nil {
		return certificate.Record{}, err
	}
	return *found, nil
}

// ByCF lists the certificates about or asked for by cf, newest first.
func (s *Store) ByCF(cf string, limit int) (rs []certificate.Record, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { rs, err = ByCF(tx, cf, limit); return err })
	return rs, err
}

// ByProtocol returns the certificate with protocol number n.
func (s *Store) ByProtocol(n protocol.Number) (r certificate.Record, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { r, err = ByProtocol(tx, n); return err })
	return r, err
}

var _ certificate.Store = (*Store)(nil)
