package main

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/keystore"
)

func init() {
	register(
		command{Name: "enrol", Usage: "--hub URL --code CODE [--profile DIR] [--name NAME] [--hub-ca FILE] [--seal auto|tpm2|dpapi|passphrase] [--secret-stdin | --secret-file FILE] [--force]",
			Help: "enrol this device with the hub using a one-time code from city staff", Run: (*cli).enrol},
	)
}

// defaultProfileDir is where the kiosk keeps its enrolment and data.
func defaultProfileDir() string {
	if d := os.Getenv("SPORTELLO_PROFILE"); d != "" {
		return d
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "sportello-kiosk")
	}
	return "sportello-kiosk"
}

func (c *cli) enrol(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("kiosk enrol")
	hub := fs.String("hub", os.Getenv("SPORTELLO_HUB"), "the hub's URL, e.g. https://hub.example.it")
	code := fs.String("code", "", "one-time enrolment code from city staff")
	profile := fs.String("profile", defaultProfileDir(), "kiosk profile directory")
	host, _ := os.Hostname()
	name := fs.String("name", host, "name of this device as staff will see it")
	hubCA := fs.String("hub-ca", "", "PEM file of the certificate or CA the hub's TLS certificate is trusted by (a self-signed demo hub)")
	force := fs.Bool("force", false, "replace an existing enrolment in the profile")
	seal := fs.String("seal", keystore.SealAuto, "how the device's keys are sealed on disk: tpm2 (systemd-creds), dpapi (Windows), passphrase (typed by staff at every start), "+
		"or auto, the first of these this machine has")
	sf := addSecretFlags(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *hub == "" || *code == "" {
		return cmdline.Usagef("give the hub's URL with --hub and the enrolment code with --code")
	}
	if err := plainHubURL(*hub); err != nil {
		return err
	}
	if !*force {
		if id, url, ok := keystore.Enrolled(*profile); ok {
			return fmt.Errorf("the profile %s is already enrolled as %s with %s; use --force to enrol again", *profile, id, url)
		}
	}
	// The sealing is settled, and the passphrase typed, before the
	// one-time code is spent.
	sealer, note, err := keystore.Choose(*seal, nil, c.secret(sf, true))
	if err != nil {
		return err
	}
	if err := atomicfile.PrivateDir(*profile); err != nil {
		return fmt.Errorf("cannot create the kiosk profile directory: %w", err)
	}
	var opt hubclient.EnrolOptions
	if *hubCA != "" {
		b, err := os.ReadFile(*hubCA)
		if err != nil {
			return fmt.Errorf("cannot read the hub's certificate file: %v", err)
		}
		opt.HubCAPEM = string(b)
	}
	cl := &hubclient.Client{Clock: c.now}
	p, err := cl.Enrol(ctx, *hub, *code, *name, opt)
	if err != nil {
		return err
	}
	keys, err := keystore.NewKeys(p.DeviceKey, nil)
	if err != nil {
		return err
	}
	if err := keystore.Save(*profile, p, keys, sealer); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "enrolled as %s for operator %s at %s\nprofile saved in %s; %s\n", p.KeyID, p.OperatorID, p.HubURL, *profile, note)
	return nil
}

// plainHubURL refuses a plain http:// hub that is not on this machine: the
// one-time code, the device's new key and every later request would cross
// the network in the clear, for anyone on the shop's Wi-Fi to read.
func plainHubURL(hub string) error {
	u, err := url.Parse(hub)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || loopbackHost(u.Hostname()) {
		return nil // hubclient names any other fault of the URL
	}
	return cmdline.Usagef("the hub's URL %s is plain http://, which only a hub on this machine may use: give its https:// URL", hub)
}

// loopbackHost reports whether host is this machine: localhost or a
// loopback address, never a name that merely looks like one.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
