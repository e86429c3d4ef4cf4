//go:build linux

package transport

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"

	"github.com/sportello/sportello/printer"
)

var filepathGlob = filepath.Glob

// ioctl numbers from linux/lp.h and drivers/usb/class/usblp.c.
const (
	lpGetStatus = 0x060b
	idBufLen    = 1024
	// LPIOC_GET_DEVICE_ID(len) = _IOC(_IOC_READ, 'P', 1, len)
	lpGetDeviceID = 2<<30 | idBufLen<<16 | 'P'<<8 | 1
)

func lpPortStatus(f *os.File) (byte, error) {
	var st int32
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var errno syscall.Errno
	rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, lpGetStatus, uintptr(unsafe.Pointer(&st)))
	})
	if errno != 0 {
		return 0, fmt.Errorf("reading the port status of %s: %w", f.Name(), errno)
	}
	return byte(st), nil
}

func lpDeviceID(path string) (printer.DeviceID, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return printer.DeviceID{}, err
	}
	defer f.Close()
	buf := make([]byte, idBufLen)
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), lpGetDeviceID, uintptr(unsafe.Pointer(&buf[0])))
	if errno != 0 {
		return printer.DeviceID{}, fmt.Errorf("reading the device ID of %s: %w", path, errno)
	}
	return printer.ParseDeviceIDPrefixed(buf)
}
