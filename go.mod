module github.com/sportello/sportello

go 1.26.8

require (
	github.com/digitorus/pdf v0.1.2 // indirect
	github.com/digitorus/pdfsign v0.0.0-20260407063256-85ede6424a74 // indirect
	github.com/digitorus/pkcs7 v0.0.0-20230818184609-3a137a874352 // indirect
	github.com/digitorus/timestamp v0.0.0-20231217203849-220c5c2851b7 // indirect
	github.com/dunglas/httpsfv v1.1.2 // indirect
	github.com/ebfe/scard v0.0.0-20241214075232-7af069cabc25 // indirect
	github.com/go-pdf/fpdf v0.9.0 // indirect
	github.com/google/gousb v1.1.3 // indirect
	github.com/mattetti/filebuffer v1.0.1 // indirect
	github.com/phin1x/go-ipp v1.7.0 // indirect
	github.com/skip2/go-qrcode v0.0.0-20200617195104-da1b6568686e // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/crypto v0.49.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
	golang.org/x/text v0.35.0 // indirect
	rsc.io/qr v0.2.0 // indirect
)
