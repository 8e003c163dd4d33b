package syncsite_test

import (
	"net/http"
	"net/http/httptest"

	"github.com/custodyhq/custody/server/syncsite"
)

func httptestRequest(upgrade bool) *http.Request {
	req := httptest.NewRequest(http.MethodGet, syncsite.Path, nil)
	if upgrade {
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	}
	return req
}
