//go:build !linux

package transport

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/sportello/sportello/printer"
)

var filepathGlob = func(string) ([]string, error) { return nil, nil }

var _ = filepath.Glob

func lpPortStatus(*os.File) (byte, error) { return 0, errors.New("usblp status is Linux only") }

func lpDeviceID(string) (printer.DeviceID, error) {
	return printer.DeviceID{}, errors.New("usblp is Linux only")
}
