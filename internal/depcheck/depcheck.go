// Package depcheck reads a binary's import graph with `go list`, for the
// dependency test each binary has (cmd/hub, cmd/kiosk): what a binary may
// link is a rule of the architecture (DESIGN.md, "The hub's inside"), and
// a test keeps it one.
package depcheck

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

// Module is this module's path.
const Module = "github.com/sportello/sportello"

// Graph maps each package a binary links to the packages it imports.
type Graph map[string][]string

// Load lists the dependencies of pkg (a pattern such as "./cmd/hub") with
// the go command run in dir, for the build environment env (nil: the
// caller's), so the graph is that of the binary as it is built.
func Load(dir, pkg string, env []string) (Graph, error) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}:{{join .Imports \" \"}}", pkg)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %v: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	g := Graph{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		path, imports, _ := strings.Cut(sc.Text(), ":")
		g[path] = strings.Fields(imports)
	}
	return g, sc.Err()
}

// Importers returns the packages of the graph that import target
// directly, sorted.
func (g Graph) Importers(target string) []string {
	var out []string
	for p, imps := range g {
		if slices.Contains(imps, target) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Linked returns the packages of the graph whose path starts with one of
// prefixes, sorted.
func (g Graph) Linked(prefixes ...string) []string {
	var out []string
	for p := range g {
		for _, pre := range prefixes {
			if p == pre || strings.HasPrefix(p, pre+"/") {
				out = append(out, p)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// Outside returns those of pkgs that are neither one of allowed nor below
// one of them.
func Outside(pkgs []string, allowed ...string) []string {
	var out []string
	for _, p := range pkgs {
		ok := false
		for _, a := range allowed {
			if p == a || strings.HasPrefix(p, a+"/") {
				ok = true
				break
			}
		}
		if !ok {
			out = append(out, p)
		}
	}
	return out
}
