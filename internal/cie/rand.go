package cie

import "crypto/rand"

var randReader = rand.Reader
