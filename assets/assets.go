// Package assets holds the data files both binaries embed: the default places
// table, the synthetic population's name and street lists, the certificate fonts, and later
// logos, translations and certificate templates.
package assets

import "embed"

// FS is the embedded asset tree, rooted at this directory.
//
//go:embed places synth fonts i18n
var FS embed.FS
