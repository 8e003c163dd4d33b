package api

import (
	"strconv"
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

// observe records each request's latency under its route pattern.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	code := c.Response().StatusCode()
	if err != nil {
		code, _ = status(err)
	}
	s.latency.WithLabelValues(c.Route().Path, c.Method(), strconv.Itoa(code)).Observe(time.Since(start).Seconds())
	return err
}
