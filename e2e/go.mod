module github.com/custodyhq/custody/e2e

go 1.26.0

require (
	github.com/custodyhq/custody/certs v0.0.0
	github.com/custodyhq/custody/handheld v0.0.0
	github.com/custodyhq/custody/server v0.0.0
	github.com/custodyhq/custody/shared v0.0.0
	github.com/custodyhq/custody/sync v0.0.0
)

require (
	fyne.io/fyne/v2 v2.7.1 // indirect
	github.com/chromedp/cdproto v0.160.1 // indirect
	github.com/chromedp/chromedp v0.23.1 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/makiuchi-d/gozxing v0.1.1 // indirect
	golang.org/x/xerrors v0.0.0-20200804184101-5ec99f83aff1 // indirect
)

replace github.com/custodyhq/custody/shared => ../shared

replace github.com/custodyhq/custody/sync => ../sync

replace github.com/custodyhq/custody/server => ../server

replace github.com/custodyhq/custody/handheld => ../handheld

replace github.com/custodyhq/custody/certs => ../certs
