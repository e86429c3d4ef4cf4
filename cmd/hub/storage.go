package main

import "github.com/sportello/sportello/internal/atomicfile"

// probeSize is how much room the data directory must have again before a
// hub whose disk filled up says it is healthy: enough for a few
// certificates, so /healthz does not go back to ok for a single page.
const probeSize = 256 << 10

// storageProbe is the check /healthz runs while the hub's disk is full:
// whether the data directory takes probeSize bytes again.
func storageProbe(dataDir string) func() error {
	return func() error { return atomicfile.Probe(dataDir, probeSize) }
}
