// Command h3load measures HTTP/3 requests per second with quic-go's client
// (h2load here is built without QUIC): c connections, each with m
// concurrent streams, for a fixed duration.
//
//	go run ./scripts/h3load -url https://127.0.0.1:443/ -host a.test -c 4 -m 10 -d 5s
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go/http3"
)

func main() {
	url := flag.String("url", "", "URL to GET")
	host := flag.String("host", "", "Host header and SNI (default: from the URL)")
	conns := flag.Int("c", 4, "connections")
	streams := flag.Int("m", 10, "concurrent requests per connection")
	dur := flag.Duration("d", 5*time.Second, "duration")
	flag.Parse()
	if *url == "" {
		flag.Usage()
		os.Exit(2)
	}
	var ok, failed atomic.Int64
	stop := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for range *conns {
		tr := &http3.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: *host}}
		cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		for range *streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					req, _ := http.NewRequest(http.MethodGet, *url, nil)
					if *host != "" {
						req.Host = *host
					}
					resp, err := cl.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					ok.Add(1)
				}
			}()
		}
		defer func() { _ = tr.Close() }()
	}
	wg.Wait()
	fmt.Printf("finished in %.2fs, %.2f req/s, %d ok, %d failed\n", dur.Seconds(), float64(ok.Load())/dur.Seconds(), ok.Load(), failed.Load())
}
