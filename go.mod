module github.com/sportello/sportello

go 1.26.8

require (
	github.com/ebfe/scard v0.0.0-20241214075232-7af069cabc25 // indirect
	github.com/google/gousb v1.1.3 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
	golang.org/x/text v0.31.0 // indirect
)
