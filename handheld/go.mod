module github.com/custodyhq/custody/handheld

go 1.26.0

require (
	github.com/custodyhq/custody/certs v0.0.0
	github.com/custodyhq/custody/shared v0.0.0
	github.com/custodyhq/custody/sync v0.0.0
	golang.org/x/text v0.43.0
)

require (
	fyne.io/fyne/v2 v2.7.1 // indirect
	github.com/blackjack/webcam v0.6.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgraph-io/badger/v4 v4.9.6
	github.com/dgraph-io/ristretto/v2 v2.2.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/go-logr/logr v1.4.3 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/go-pdf/fpdf v0.9.0 // indirect
	github.com/google/flatbuffers v25.2.10+incompatible // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/klauspost/compress v1.18.0 // indirect
	github.com/makiuchi-d/gozxing v0.1.1 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel v1.41.0 // indirect
	go.opentelemetry.io/otel/metric v1.41.0 // indirect
	go.opentelemetry.io/otel/trace v1.41.0 // indirect
	golang.org/x/image v0.47.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/xerrors v0.0.0-20200804184101-5ec99f83aff1 // indirect
	google.golang.org/protobuf v1.36.7 // indirect
)

replace github.com/custodyhq/custody/shared => ../shared

replace github.com/custodyhq/custody/sync => ../sync

replace github.com/custodyhq/custody/certs => ../certs
