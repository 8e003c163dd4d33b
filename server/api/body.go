package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// plainBodies refuses a request body sent with a Content-Encoding. Fiber
// inflates such a body whole, without a bound, the first time a handler
// reads it: BodyLimit counts the bytes on the wire, so a few megabytes of
// gzip would become gigabytes in memory. No client of this API
// compresses what it sends.
func plainBodies(c *fiber.Ctx) error {
	ce := c.Get(fiber.HeaderContentEncoding)
	if ce == "" || strings.EqualFold(strings.TrimSpace(ce), "identity") || len(c.Request().Body()) == 0 {
		return c.Next()
	}
	return fiber.NewError(fiber.StatusUnsupportedMediaType, "Content-Encoding "+ce+" is not accepted: send the body uncompressed")
}
