package ratelimit

import (
	"bufio"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// The bucket of a source is a Redis hash {t: tokens, ts: µs}, updated
// atomically by this script with the Redis server's clock, so several
// instances share one limit whatever their clocks say. Returns {ok, wait µs}.
const script = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local maxdelay = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local s = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(s[1]) or burst
local ts = tonumber(s[2]) or now
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate) end
local ok, wait = 1, 0
if tokens < 1 then
  wait = math.ceil((1 - tokens) / rate)
  if wait > maxdelay then ok = 0 end
end
if ok == 1 then tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate / 1000) + 1000)
return {ok, wait}
`

var scriptSHA = func() string { s := sha1.Sum([]byte(script)); return hex.EncodeToString(s[:]) }()

// redisStore is a minimal RESP client: a pool of connections running the
// bucket script (EVALSHA, falling back to EVAL once per connection).
type redisStore struct {
	prefix      string
	endpoints   []string
	tls         *tls.Config
	user, pass  string
	db          int
	dialTimeout time.Duration
	ioTimeout   time.Duration
	rate, burst float64 // rate in tokens per µs for the script
	idle        chan *redisConn
	closeOnce   sync.Once
	closed      chan struct{}
}

type redisConn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func newRedisStore(name string, cfg *dynamic.Redis, rate, burst float64) (*redisStore, error) {
	eps := cfg.Endpoints
	if len(eps) == 0 {
		eps = []string{"localhost:6379"}
	}
	pool := cfg.PoolSize
	if pool <= 0 {
		pool = 10
	}
	s := &redisStore{
		prefix:      "switchyard:ratelimit:" + name + ":",
		endpoints:   eps,
		user:        cfg.Username,
		pass:        cfg.Password,
		db:          cfg.DB,
		dialTimeout: 5 * time.Second,
		ioTimeout:   3 * time.Second,
		rate:        rate / 1e6,
		burst:       burst,
		idle:        make(chan *redisConn, pool),
		closed:      make(chan struct{}),
	}
	if cfg.DialTimeout != nil && *cfg.DialTimeout > 0 {
		s.dialTimeout = time.Duration(*cfg.DialTimeout)
	}
	if cfg.ReadTimeout != nil && *cfg.ReadTimeout > 0 {
		s.ioTimeout = time.Duration(*cfg.ReadTimeout)
	}
	if cfg.TLS != nil {
		tc, err := clientTLS(cfg.TLS)
		if err != nil {
			return nil, err
		}
		s.tls = tc
	}
	return s, nil
}

func clientTLS(c *dynamic.ClientTLS) (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if c.CA != "" {
		pem, err := os.ReadFile(c.CA)
		if err != nil {
			pem = []byte(c.CA)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("tls.ca: no certificate found")
		}
		tc.RootCAs = pool
	}
	if c.Cert != "" || c.Key != "" {
		cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			cert, err = tls.X509KeyPair([]byte(c.Cert), []byte(c.Key))
		}
		if err != nil {
			return nil, fmt.Errorf("tls.cert/key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func (s *redisStore) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		for {
			select {
			case c := <-s.idle:
				c.c.Close()
			default:
				return
			}
		}
	})
	return nil
}

func (s *redisStore) get() (*redisConn, error) {
	select {
	case c := <-s.idle:
		return c, nil
	default:
	}
	var last error
	for _, ep := range s.endpoints {
		d := net.Dialer{Timeout: s.dialTimeout}
		var nc net.Conn
		var err error
		if s.tls != nil {
			nc, err = tls.DialWithDialer(&d, "tcp", ep, s.tls)
		} else {
			nc, err = d.Dial("tcp", ep)
		}
		if err != nil {
			last = err
			continue
		}
		c := &redisConn{c: nc, r: bufio.NewReader(nc), w: bufio.NewWriter(nc)}
		if err := s.hello(c); err != nil {
			nc.Close()
			last = err
			continue
		}
		return c, nil
	}
	return nil, last
}

func (s *redisStore) hello(c *redisConn) error {
	if s.pass != "" {
		args := []string{"AUTH", s.pass}
		if s.user != "" {
			args = []string{"AUTH", s.user, s.pass}
		}
		if _, err := c.do(s.ioTimeout, args...); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if s.db != 0 {
		if _, err := c.do(s.ioTimeout, "SELECT", strconv.Itoa(s.db)); err != nil {
			return fmt.Errorf("SELECT: %w", err)
		}
	}
	return nil
}

func (s *redisStore) put(c *redisConn) {
	select {
	case <-s.closed:
		c.c.Close()
		return
	default:
	}
	select {
	case s.idle <- c:
	default:
		c.c.Close()
	}
}

func (s *redisStore) take(key string, _ time.Time, maxDelay time.Duration) (time.Duration, bool, error) {
	c, err := s.get()
	if err != nil {
		return 0, false, err
	}
	args := []string{
		"EVALSHA", scriptSHA, "1", s.prefix + key,
		strconv.FormatFloat(s.rate, 'g', -1, 64),
		strconv.FormatFloat(s.burst, 'g', -1, 64),
		strconv.FormatInt(maxDelay.Microseconds(), 10),
	}
	v, err := c.do(s.ioTimeout, args...)
	var re redisError
	if errors.As(err, &re) && strings.HasPrefix(string(re), "NOSCRIPT") {
		args[0], args[1] = "EVAL", script
		v, err = c.do(s.ioTimeout, args...)
	}
	if err != nil {
		if !errors.As(err, &re) {
			c.c.Close()
			return 0, false, err
		}
		s.put(c)
		return 0, false, err
	}
	s.put(c)
	arr, ok := v.([]any)
	if !ok || len(arr) != 2 {
		return 0, false, fmt.Errorf("unexpected script reply %v", v)
	}
	okv, _ := arr[0].(int64)
	wait, _ := arr[1].(int64)
	return time.Duration(wait) * time.Microsecond, okv == 1, nil
}

// Replies here are tiny; bound what a broken server could make us allocate.
const (
	maxBulk  = 1 << 20
	maxArray = 1024
)

type redisError string

func (e redisError) Error() string { return "redis: " + string(e) }

// do sends one command and reads its reply.
func (c *redisConn) do(timeout time.Duration, args ...string) (any, error) {
	_ = c.c.SetDeadline(time.Now().Add(timeout))
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c.w, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	return readReply(c.r)
}

func readReply(r *bufio.Reader) (any, error) { return readReplyDepth(r, 0) }

func readReplyDepth(r *bufio.Reader, depth int) (any, error) {
	if depth > 8 {
		return nil, errors.New("reply nested too deep")
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return nil, fmt.Errorf("bad reply line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, redisError(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		if n > maxBulk {
			return nil, fmt.Errorf("bulk reply of %d bytes is too large", n)
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		if n > maxArray {
			return nil, fmt.Errorf("array reply of %d elements is too large", n)
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readReplyDepth(r, depth+1); err != nil {
				var re redisError
				if !errors.As(err, &re) {
					return nil, err
				}
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply type %q", line[0])
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
