package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// load is what one load-generator run measured.
type load struct {
	RPS    float64 // requests (or connections) per second
	P99ms  float64 // 99th percentile latency, ms (0 if unknown)
	Errors int64   // socket errors + non-2xx/3xx + failed requests
}

// wrkRun describes one wrk invocation (HTTP/1.1, one thread).
type wrkRun struct {
	URL     string
	Conns   int
	Dur     time.Duration
	Script  string   // Lua script path (POST body), "" for GET
	Headers []string // extra -H values
}

// runWRK runs wrk pinned to the load core and parses its report.
func runWRK(core int, r wrkRun) (load, string, error) {
	args := []string{"-c", strconv.Itoa(core), "wrk", "-t1", "-c" + strconv.Itoa(r.Conns),
		"-d" + strconv.Itoa(max(1, int(r.Dur.Round(time.Second)/time.Second))) + "s", "--latency", "--timeout", "5s"}
	if r.Script != "" {
		args = append(args, "-s", r.Script)
	}
	for _, h := range r.Headers {
		args = append(args, "-H", h)
	}
	args = append(args, r.URL)
	out, err := exec.Command("taskset", args...).CombinedOutput()
	if err != nil {
		return load{}, string(out), fmt.Errorf("wrk: %w: %s", err, out)
	}
	l, err := parseWRK(string(out))
	return l, string(out), err
}

var (
	wrkRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkP99    = regexp.MustCompile(`(?m)^\s+99%\s+([0-9.]+)(us|ms|s|m)\s*$`)
	wrkSocket = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// parseWRK reads requests/s, p99 and errors out of wrk's --latency report.
func parseWRK(out string) (load, error) {
	var l load
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return l, fmt.Errorf("wrk: no Requests/sec in output: %q", out)
	}
	l.RPS, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkP99.FindStringSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		switch m[2] {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		case "m":
			v *= 60000
		}
		l.P99ms = v
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			l.Errors += n
		}
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		l.Errors += n
	}
	return l, nil
}

// h2Run describes one h2load invocation (h2c prior knowledge for http://,
// ALPN h2 for https://), one thread.
type h2Run struct {
	URL     string
	Conns   int
	Streams int
	Dur     time.Duration
	Body    string // file posted with every request, "" for GET
}

// runH2Load runs h2load pinned to the load core; p99 comes from its
// per-request log.
func runH2Load(core int, dir string, r h2Run) (load, string, error) {
	logPath := filepath.Join(dir, "h2load-requests.log")
	defer os.Remove(logPath)
	args := []string{"-c", strconv.Itoa(core), "h2load", "-t1", "-c" + strconv.Itoa(r.Conns), "-m" + strconv.Itoa(r.Streams),
		"-D", strconv.Itoa(max(1, int(r.Dur.Round(time.Second)/time.Second))), "--warm-up-time=1", "--log-file=" + logPath}
	if r.Body != "" {
		args = append(args, "-d", r.Body)
	}
	args = append(args, r.URL)
	out, err := exec.Command("taskset", args...).CombinedOutput()
	if err != nil {
		return load{}, string(out), fmt.Errorf("h2load: %w: %s", err, out)
	}
	l, err := parseH2Load(string(out))
	if err != nil {
		return l, string(out), err
	}
	if f, err := os.Open(logPath); err == nil {
		l.P99ms = h2loadP99(f)
		f.Close()
	}
	return l, string(out), nil
}

var (
	h2RPS      = regexp.MustCompile(`finished in [0-9.]+\w+, ([0-9.]+) req/s`)
	h2Requests = regexp.MustCompile(`requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, \d+ errored, (\d+) timeout`)
	h2Status   = regexp.MustCompile(`status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx`)
)

// parseH2Load reads req/s and failures out of h2load's summary.
func parseH2Load(out string) (load, error) {
	var l load
	m := h2RPS.FindStringSubmatch(out)
	if m == nil {
		return l, fmt.Errorf("h2load: no req/s in output: %q", out)
	}
	l.RPS, _ = strconv.ParseFloat(m[1], 64)
	if m := h2Requests.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			l.Errors += n
		}
	}
	if m := h2Status.FindStringSubmatch(out); m != nil && l.Errors == 0 {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			l.Errors += n
		}
	}
	return l, nil
}

// h2loadP99 computes the 99th percentile from h2load's --log-file lines:
// "<start µs>\t<status>\t<duration µs>".
func h2loadP99(f *os.File) float64 {
	var d []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 3 {
			continue
		}
		v, err := strconv.ParseFloat(fs[2], 64)
		if err == nil {
			d = append(d, v)
		}
	}
	return percentile(d, 0.99) / 1000
}

func percentile(d []float64, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(float64(len(d))*q+0.5) - 1
	return d[max(0, min(i, len(d)-1))]
}

// holdTLS opens n TLS connections to addr, each with a completed full
// handshake (ALPN http/1.1, no request sent), and returns them open.
func holdTLS(addr string, n, parallel int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	cfg := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}, ClientSessionCache: nil}
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
				if err != nil {
					mu.Lock()
					first = cmpOr(first, fmt.Errorf("connection %d: %w", i, err))
					mu.Unlock()
					continue
				}
				conns[i] = c
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		closeAll(conns)
		return nil, first
	}
	return conns, nil
}

func closeAll(cs []net.Conn) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// runHandshakes measures new TLS connections per second: conns workers each
// dial, complete a full handshake (no session cache, so never a
// resumption), send one GET with Connection: close, read the answer to EOF
// and start over, for dur. wrk cannot do this: it keeps the TLS session
// across its reconnects and so resumes.
func runHandshakes(addr string, conns int, dur time.Duration) (load, error) {
	cfg := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}
	req := []byte("GET / HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n")
	deadline := time.Now().Add(dur)
	var (
		mu    sync.Mutex
		lat   []float64
		errs  int64
		wg    sync.WaitGroup
		start = time.Now()
	)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			var mine []float64
			var bad int64
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := oneHandshake(addr, cfg, req, buf); err != nil {
					bad++
					continue
				}
				mine = append(mine, float64(time.Since(t0).Microseconds())/1000)
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	if len(lat) == 0 {
		return load{Errors: errs}, fmt.Errorf("no TLS connection completed (%d errors)", errs)
	}
	return load{RPS: float64(len(lat)) / el, P99ms: percentile(lat, 0.99), Errors: errs}, nil
}

func oneHandshake(addr string, cfg *tls.Config, req, buf []byte) error {
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	c := tls.Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		return err
	}
	if _, err := c.Write(req); err != nil {
		return err
	}
	n, status := 0, false
	for {
		m, err := c.Read(buf[n:])
		n += m
		if !status && n >= 12 {
			if string(buf[9:12]) != "200" {
				return fmt.Errorf("status %q", buf[9:12])
			}
			status = true
		}
		if n == len(buf) {
			n = 12
		}
		if err != nil {
			if status {
				return nil
			}
			return err
		}
	}
}
