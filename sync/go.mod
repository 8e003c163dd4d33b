module github.com/custodyhq/custody/sync

go 1.26.0

require github.com/custodyhq/custody/shared v0.0.0

require github.com/gorilla/websocket v1.5.3 // indirect

replace github.com/custodyhq/custody/shared => ../shared
