// Package hubpackage is the hub's Debian package: nfpm.yaml, the systemd
// unit, the sysusers.d user, hub.conf and the maintainer scripts that
// make package-hub puts in dist/. Its test builds the package and
// installs, upgrades, removes and purges it in a throw-away root.
package hubpackage
