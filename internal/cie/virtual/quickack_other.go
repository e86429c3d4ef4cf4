//go:build !linux

package virtual

func setQuickAck(uintptr) {}
