package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/sportello/sportello/internal/hubapi"
)

// metricsFlags say who may read /metrics besides loopback.
type metricsFlags struct {
	allow     proxyList // addresses or prefixes, as --trusted-proxy takes them
	tokenFile string
	token     string // read by check
}

func addMetricsFlags(fs *flag.FlagSet) *metricsFlags {
	f := &metricsFlags{}
	fs.Var(&f.allow, "metrics-allow", "address or CIDR that may read /metrics, repeatable or comma-separated; replaces the default, loopback only")
	fs.StringVar(&f.tokenFile, "metrics-token-file", "", "file holding a bearer token with which any address may read /metrics (or the token in SPORTELLO_METRICS_TOKEN)")
	return f
}

// minMetricsToken keeps the token out of reach of guessing.
const minMetricsToken = 16

// check reads the token, before the hub opens anything.
func (f *metricsFlags) check() error {
	token := os.Getenv("SPORTELLO_METRICS_TOKEN")
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return fmt.Errorf("cannot read the metrics token: %v", unwrapPath(err))
		}
		token = string(b)
	}
	token = strings.TrimSpace(token)
	if token != "" && len(token) < minMetricsToken {
		return usagef("the metrics token has %d characters; give at least %d, e.g. from openssl rand -hex 32", len(token), minMetricsToken)
	}
	f.token = token
	return nil
}

// apply sets who may read the metrics on api.
func (f *metricsFlags) apply(api *hubapi.Server) {
	api.MetricsAllow, api.MetricsToken = f.allow, f.token
}
