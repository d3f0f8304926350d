package ipmatch

import (
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestRanges(t *testing.T) {
	r, err := NewRanges([]string{"10.0.0.0/8", "192.168.1.7", "2001:db8::/32", " "})
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{
		"10.1.2.3": true, "10.1.2.3:80": true, "192.168.1.7": true, "192.168.1.8": false,
		"[2001:db8::1]:443": true, "2001:db9::1": false, "::ffff:10.0.0.1": true, "junk": false, "": false,
	} {
		if got := r.ContainsString(s); got != want {
			t.Errorf("%q: %v", s, got)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "300.1.1.1", "abc"} {
		if _, err := NewRanges([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestStrategy(t *testing.T) {
	six, outOfRange := 64, 129
	tests := []struct {
		desc   string
		s      *dynamic.IPStrategy
		remote string
		xff    []string
		want   string
	}{
		{"remote addr", nil, "1.2.3.4:5", []string{"9.9.9.9"}, "1.2.3.4"},
		{"empty strategy", &dynamic.IPStrategy{}, "1.2.3.4:5", []string{"9.9.9.9"}, "1.2.3.4"},
		{"depth 1", &dynamic.IPStrategy{Depth: 1}, "1.2.3.4:5", []string{"7.7.7.7, 8.8.8.8", "9.9.9.9"}, "9.9.9.9"},
		{"depth 3", &dynamic.IPStrategy{Depth: 3}, "1.2.3.4:5", []string{"7.7.7.7, 8.8.8.8", "9.9.9.9"}, "7.7.7.7"},
		{"depth too deep", &dynamic.IPStrategy{Depth: 4}, "1.2.3.4:5", []string{"7.7.7.7, 8.8.8.8", "9.9.9.9"}, ""},
		{"excluded", &dynamic.IPStrategy{ExcludedIPs: []string{"9.9.9.0/24", "8.8.8.8"}}, "1.2.3.4:5", []string{"7.7.7.7, 8.8.8.8, 9.9.9.9"}, "7.7.7.7"},
		{"depth wins over excluded", &dynamic.IPStrategy{Depth: 1, ExcludedIPs: []string{"9.9.9.9"}}, "1.2.3.4:5", []string{"7.7.7.7, 9.9.9.9"}, "9.9.9.9"},
		{"ipv6 subnet", &dynamic.IPStrategy{IPv6Subnet: &six}, "[2001:db8:1:2:3:4:5:6]:80", nil, "2001:db8:1:2::"},
		{"ipv6 subnet ignores v4", &dynamic.IPStrategy{IPv6Subnet: &six}, "1.2.3.4:80", nil, "1.2.3.4"},
		{"ipv6 subnet out of range ignored", &dynamic.IPStrategy{IPv6Subnet: &outOfRange}, "[2001:db8::1]:80", nil, "2001:db8::1"},
	}
	for _, tc := range tests {
		st, err := NewStrategy(tc.s)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := st.ClientIP(r); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.desc, got, tc.want)
		}
	}
	for _, s := range []*dynamic.IPStrategy{{Depth: -1}, {ExcludedIPs: []string{"x"}}} {
		if _, err := NewStrategy(s); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}

func TestSource(t *testing.T) {
	r := httptest.NewRequest("GET", "http://host.example/", nil)
	r.Header.Set("X-Key", "k1")
	for _, tc := range []struct {
		c    *dynamic.SourceCriterion
		want string
	}{
		{nil, "192.0.2.1"},
		{&dynamic.SourceCriterion{}, "192.0.2.1"},
		{&dynamic.SourceCriterion{RequestHeaderName: "x-key"}, "k1"},
		{&dynamic.SourceCriterion{RequestHost: true}, "host.example"},
	} {
		s, err := NewSource(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Key(r); got != tc.want {
			t.Errorf("%+v: %q", tc.c, got)
		}
	}
	s, _ := NewSource(&dynamic.SourceCriterion{RequestHeaderName: "X-Missing"})
	if k, err := s.Key(r); err != nil || k != "" {
		t.Errorf("missing header: %q %v, want the shared empty source", k, err)
	}
}

func FuzzRanges(f *testing.F) {
	f.Add("10.0.0.0/8", "10.1.1.1")
	f.Fuzz(func(t *testing.T, cidr, ip string) {
		if r, err := NewRanges([]string{cidr}); err == nil {
			r.ContainsString(ip)
		}
	})
}
