package main

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/sportello/sportello/internal/cmdline"
)

// becomeOwner makes a command run as root on a data directory another user
// owns (the package's sportello, whom the service runs as) run as that user
// instead, before it touches anything: files it makes there (keys, the
// registry, a seal request) must stay readable by the next hub serve, and a
// command forwarded to the serving hub is run by that hub, as that user,
// so what it reads and writes is the user's either way. It returns the
// user's name when it changed user. Files root alone may read (a
// passphrase file in /root) are then refused like any unreadable file.
func becomeOwner(args []string, wd string) (string, error) {
	if os.Geteuid() != 0 {
		return "", nil
	}
	name := ""
	if cmd, _ := cmdline.Lookup(commands, args); cmd != nil {
		name = cmd.Name
	}
	dir := cmdline.FlagValue(args, "data", cmdline.Setting(name, "data", defaultDataDir()))
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(wd, dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", nil // no directory yet: whoever makes it owns it
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return "", nil
	}
	uid, gid := int(st.Uid), int(st.Gid)
	who := strconv.Itoa(uid)
	var groups []int
	if u, err := user.LookupId(who); err == nil {
		who = u.Username
		if g, err := strconv.Atoi(u.Gid); err == nil {
			gid = g
		}
		if ids, err := u.GroupIds(); err == nil {
			for _, id := range ids {
				if g, err := strconv.Atoi(id); err == nil {
					groups = append(groups, g)
				}
			}
		}
	}
	if len(groups) == 0 {
		groups = []int{gid}
	}
	// Groups first: after Setuid there is no right left to change them.
	// Go applies each to every thread of the process.
	if err := syscall.Setgroups(groups); err != nil {
		return "", fmt.Errorf("cannot take the groups of %s, who owns %s: %v (run as: sudo -u %s %s ...)", who, dir, err, who, os.Args[0])
	}
	if err := syscall.Setgid(gid); err != nil {
		return "", fmt.Errorf("cannot become group %d of %s, who owns %s: %v (run as: sudo -u %s %s ...)", gid, who, dir, err, who, os.Args[0])
	}
	if err := syscall.Setuid(uid); err != nil {
		return "", fmt.Errorf("cannot become %s, who owns %s: %v (run as: sudo -u %s %s ...)", who, dir, err, who, os.Args[0])
	}
	return who, nil
}
