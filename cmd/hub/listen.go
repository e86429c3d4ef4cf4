package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/frontdoor"
	"github.com/sportello/sportello/internal/httpsig"
)

// serveFlags are hub serve's options for the signed API, TLS, proxies and
// the server's time limits.
type serveFlags struct {
	tlsCert, tlsKey string
	selfSigned      bool
	plainHTTP       bool // --insecure-plain-http
	proxies         proxyList
	limits          frontdoor.Limits
	skew            time.Duration
}

// proxyList collects repeated --trusted-proxy flags.
type proxyList []netip.Prefix

func (l *proxyList) String() string {
	var s []string
	for _, p := range *l {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}

func (l *proxyList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := frontdoor.ParseProxy(s)
		if err != nil {
			return fmt.Errorf("%q is not an address or CIDR prefix", s)
		}
		*l = append(*l, p)
	}
	return nil
}

func addServeFlags(fs *flag.FlagSet) *serveFlags {
	f := &serveFlags{limits: frontdoor.DefaultLimits()}
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate chain")
	fs.StringVar(&f.tlsKey, "tls-key", "", "the PEM private key of --tls-cert")
	fs.BoolVar(&f.selfSigned, "tls-self-signed", false, "serve HTTPS with a certificate the hub makes and keeps in DIR/tls (the default with --demo)")
	fs.BoolVar(&f.plainHTTP, "insecure-plain-http", false, "serve plain HTTP on an address other machines can reach: only behind a TLS-terminating proxy (see --trusted-proxy)")
	fs.Var(&f.proxies, "trusted-proxy", "address or CIDR of a TLS-terminating proxy whose X-Forwarded-Proto and X-Forwarded-For the hub believes; repeatable")
	fs.DurationVar(&f.limits.Read, "read-timeout", f.limits.Read, "time a client has to send a whole request, headers and body")
	fs.DurationVar(&f.limits.Write, "write-timeout", f.limits.Write, "time the hub has to send an answer")
	fs.DurationVar(&f.limits.Idle, "idle-timeout", f.limits.Idle, "how long a kept-alive connection may wait for its next request")
	fs.IntVar(&f.limits.MaxConns, "max-connections", f.limits.MaxConns, "connections held at once; past it idle ones are closed first (0: no bound)")
	fs.IntVar(&f.limits.PerSourceConns, "max-connections-per-address", f.limits.PerSourceConns, "connections from one address (IPv6: one /64) at once; trusted proxies are exempt (0: no bound)")
	fs.DurationVar(&f.skew, "signature-skew", httpsig.DefaultSkew, "clock difference allowed between kiosks and the hub")
	return f
}

func (f *serveFlags) check(demo bool) error {
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usagef("give both --tls-cert and --tls-key, or neither")
	}
	if f.selfSigned && f.tlsCert != "" {
		return usagef("give either --tls-cert/--tls-key or --tls-self-signed, not both")
	}
	if f.plainHTTP && (f.selfSigned || f.tlsCert != "") {
		return usagef("--insecure-plain-http serves without TLS: give it or a TLS certificate, not both")
	}
	// The demo serves HTTPS with its own certificate unless told otherwise.
	if demo && f.tlsCert == "" && !f.plainHTTP {
		f.selfSigned = true
	}
	if f.skew <= 0 {
		return usagef("--signature-skew must be positive")
	}
	if f.limits.MaxConns < 0 || f.limits.PerSourceConns < 0 {
		return usagef("--max-connections and --max-connections-per-address are counts, 0 for no bound")
	}
	if f.limits.Read <= 0 || f.limits.Write <= 0 || f.limits.Idle <= 0 {
		return usagef("--read-timeout, --write-timeout and --idle-timeout must be positive")
	}
	return nil
}

func (f *serveFlags) tls() bool { return f.tlsCert != "" || f.selfSigned }

func (f *serveFlags) scheme() string {
	if f.tls() {
		return "https"
	}
	return "http"
}

// refusePlain refuses plain HTTP where other machines can reach it: staff
// passwords, session cookies and citizens' data would cross the network in
// the clear. Behind a TLS-terminating proxy the operator says so by name.
func (f *serveFlags) refusePlain(ln net.Listener) error {
	if f.tls() || f.plainHTTP || frontdoor.Loopback(ln.Addr()) {
		return nil
	}
	return usagef("refusing plain HTTP on %s, which other machines can reach: give --tls-cert and --tls-key, or --insecure-plain-http behind a TLS-terminating proxy", ln.Addr())
}

// listen wraps ln in TLS when asked to and returns the file kiosks trust
// the hub's certificate by, for a certificate the hub made itself. It
// leaves ln open on failure: serve's defer closes it.
func (f *serveFlags) listen(ln net.Listener, dataDir string, now func() time.Time) (net.Listener, string, error) {
	certFile, keyFile := f.tlsCert, f.tlsKey
	made := ""
	if f.selfSigned {
		var err error
		if certFile, keyFile, err = selfSignedCert(filepath.Join(dataDir, "tls"), now()); err != nil {
			return nil, "", err
		}
		made = certFile
	}
	if certFile == "" {
		return ln, "", nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, "", fmt.Errorf("cannot load the TLS certificate %s and key %s: %v", certFile, keyFile, err)
	}
	return tls.NewListener(ln, serverTLS(cert)), made, nil
}

// fingerprint is the SHA-256 of the first certificate in a PEM file, as
// browsers show it, for staff to compare with what a kiosk was given.
func fingerprint(certFile string) string {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return ""
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return ""
	}
	sum := sha256.Sum256(blk.Bytes)
	hex := make([]string, len(sum))
	for i, c := range sum {
		hex[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(hex, ":")
}

// selfSignedCert makes, once, a certificate for the demo hub valid for
// localhost, the loopback addresses and this host's name, and keeps it in
// dir so kiosks can pin it across restarts.
func selfSignedCert(dir string, now time.Time) (string, string, error) {
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := os.Stat(certFile); err == nil {
		return certFile, keyFile, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("cannot create %s: %v", dir, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return "", "", err
	}
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" {
		names = append(names, h)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "Sportello demo hub"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(2, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    names, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// serverTLS is the hub's TLS configuration: TLS 1.2 and 1.3 only, and on
// 1.2 only forward-secret AEAD suites (Mozilla's "intermediate" profile),
// none of the CBC and SHA-1 suites Go still accepts by default.
func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}
