package client

import (
	"context"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/sync/conn"
	"github.com/custodyhq/custody/sync/internal/fake"
	"github.com/custodyhq/custody/sync/session"
)

// BenchmarkPushEndToEnd20k measures a device pushing 20,000 queued events
// through the whole protocol — client, in-memory connection, session,
// a site that applies at once — until every event is acknowledged.
func BenchmarkPushEndToEnd20k(b *testing.B) {
	const n = 20_000
	evs := fake.Events("dev-1", 1, 1, n)
	b.ReportAllocs()
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		site := fake.NewSite("site-a")
		site.PutProduct(fakeProduct())
		dev := fake.NewDevice("dev-1", 1)
		dev.Load(evs)
		hub := session.NewHub(site, session.Config{}, 10)
		ctx, cancel := context.WithCancel(context.Background())
		c, err := New(dev, Config{Dial: func(context.Context) (conn.Conn, error) {
			d, s := conn.Pipe(1<<20, 16, conn.Peer{Device: "dev-1"}, conn.Peer{})
			go func() { _ = hub.Handle(ctx, s) }()
			return d, nil
		}})
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() { _ = c.Serve(ctx); close(done) }()
		for dev.Queued() > 0 {
			time.Sleep(100 * time.Microsecond)
		}
		total += time.Since(start)
		b.StopTimer()
		cancel()
		<-done
		_ = hub.Shutdown(context.Background())
		if applied, twice, _, _ := site.Stats(); applied != n || twice != 0 {
			b.Fatalf("applied %d, %d twice", applied, twice)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "events/s")
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/20k")
}

func fakeProduct() master.Product {
	return master.Product{GTIN: "00614141000012", Client: "c1", Name: "Amoxil 500"}
}
