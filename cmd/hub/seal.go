package main

import (
	"flag"
	"log/slog"

	"github.com/sportello/sportello/internal/seal"
)

// sealFlags name the comune's own seal: a PKCS#12 file from a trust
// service holding the seal key, its certificate and the service's CA
// certificates, and the file holding its password. Without them the hub
// seals with the demo seal its own CA issued (DIR/keys).
type sealFlags struct {
	p12, password string
}

// addSealFlags adds --seal-p12 and --seal-p12-password-file to fs; the
// values land in c.seal, which newDesk reads.
func (c *cli) addSealFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.seal.p12, "seal-p12", "", "seal certificates with the comune's own seal: the PKCS#12 `FILE` from its trust service (key, seal certificate, CA chain); default: the hub's demo seal")
	fs.StringVar(&c.seal.password, "seal-p12-password-file", "", "the `FILE` holding the PKCS#12 file's password (one line), with --seal-p12")
}

func (s sealFlags) check() error {
	switch {
	case s.p12 != "" && s.password == "":
		return usagef("--seal-p12 needs --seal-p12-password-file: the password is read from a file, never from the command line")
	case s.p12 == "" && s.password != "":
		return usagef("--seal-p12-password-file goes with --seal-p12")
	}
	return nil
}

// useSeal makes keys seal with the comune's PKCS#12 seal when the command
// was given one; LoadPKCS12 refuses, in one sentence, a seal that cannot
// sign documents today.
func (c *cli) useSeal(keys *seal.Keys, log *slog.Logger) error {
	if c.seal.p12 == "" {
		return nil
	}
	s, err := seal.LoadPKCS12(c.path(c.seal.p12), c.path(c.seal.password), c.now())
	if err != nil {
		return err
	}
	keys.Seal = s
	if log != nil {
		cert := s.Certificate()
		log.Info("certificates are sealed with the comune's own seal", "seal", cert.Subject.CommonName,
			"issuer", cert.Issuer.CommonName, "not_after", cert.NotAfter, "chain", len(s.Chain()))
	}
	return nil
}
