package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) healthz(c *fiber.Ctx) error { return c.JSON(fiber.Map{"ok": true}) }

// readyz: a leader is known and the state has applied everything this
// node knows to be committed.
func (s *Server) readyz(c *fiber.Ctx) error {
	ok, why := s.node.Ready()
	if !ok {
		c.Set(fiber.HeaderRetryAfter, "1")
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"ok": false, "reason": why})
	}
	return c.JSON(fiber.Map{"ok": true})
}

func (s *Server) metrics() {
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "custody", Subsystem: "http", Name: "request_seconds",
		Help:    "HTTP request latency by route, method and status.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "status"})
	s.reg.MustRegister(s.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, m := range s.cfg.Metrics {
		s.reg.MustRegister(m)
	}
}

func (s *Server) metricsHandler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
}

// observe records each request's latency under its route pattern. The
// labels live as long as the process: they are the registered route
// pattern (Fiber's fallback for an unmatched route is a view of the
// request, so it is cloned) and the method as one of a fixed set, never
// a view of a request buffer (see Immutable in New).
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	code := c.Response().StatusCode()
	if err != nil {
		code, _ = status(err)
	}
	s.latency.WithLabelValues(strings.Clone(c.Route().Path), methodLabel(c.Method()), strconv.Itoa(code)).Observe(time.Since(start).Seconds())
	return err
}

// methodLabel maps a request method to its constant, so the label set
// stays small and owns its strings.
func methodLabel(m string) string {
	for _, known := range [...]string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch,
		fiber.MethodDelete, fiber.MethodOptions, fiber.MethodConnect, fiber.MethodTrace} {
		if m == known {
			return known
		}
	}
	return "other"
}
