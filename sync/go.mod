module github.com/custodyhq/custody/sync

go 1.26.0

require github.com/custodyhq/custody/shared v0.0.0

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/websocket v1.5.3
)

replace github.com/custodyhq/custody/shared => ../shared
