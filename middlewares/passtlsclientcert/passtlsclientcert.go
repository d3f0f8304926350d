// Package passtlsclientcert passes the client's TLS certificate (PEM and/or
// selected fields) to the backend in X-Forwarded-Tls-Client-Cert[-Info]
// headers. Headers sent by the client under those names are removed.
package passtlsclientcert

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

const (
	HeaderPEM  = "X-Forwarded-Tls-Client-Cert"
	HeaderInfo = "X-Forwarded-Tls-Client-Cert-Info"
)

type dnFields struct {
	dc, c, st, l, o, ou, cn, sn bool
}

func (d dnFields) any() bool { return d.dc || d.c || d.st || d.l || d.o || d.ou || d.cn || d.sn }

type pass struct {
	pem                 bool
	info                bool
	notAfter, notBefore bool
	sans, serial        bool
	subject, issuer     *dnFields
}

// Setup returns the wrapper (every option combination is valid).
func Setup(cfg *dynamic.PassTLSClientCert) (func(http.Handler) http.Handler, error) {
	p := &pass{}
	if cfg != nil {
		p.pem = cfg.PEM
		if i := cfg.Info; i != nil {
			p.notAfter, p.notBefore, p.sans, p.serial = i.NotAfter, i.NotBefore, i.Sans, i.SerialNumber
			if s := i.Subject; s != nil {
				p.subject = &dnFields{dc: s.DomainComponent, c: s.Country, st: s.Province, l: s.Locality, o: s.Organization, ou: s.OrganizationalUnit, cn: s.CommonName, sn: s.SerialNumber}
			}
			if s := i.Issuer; s != nil {
				p.issuer = &dnFields{dc: s.DomainComponent, c: s.Country, st: s.Province, l: s.Locality, o: s.Organization, cn: s.CommonName, sn: s.SerialNumber}
			}
			p.info = p.notAfter || p.notBefore || p.sans || p.serial || (p.subject != nil && p.subject.any()) || (p.issuer != nil && p.issuer.any())
		}
	}
	if cfg != nil && cfg.NGINXHeaders {
		return nginx(cfg.PEM), nil
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del(HeaderPEM)
			r.Header.Del(HeaderInfo)
			if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
				if p.pem {
					r.Header.Set(HeaderPEM, PEMValue(r.TLS.PeerCertificates))
				}
				if p.info {
					r.Header.Set(HeaderInfo, p.infoValue(r.TLS.PeerCertificates))
				}
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// PEMValue is the certificates' base64 DER (PEM without delimiters and
// line breaks), comma-separated (not escaped, as in Traefik).
func PEMValue(certs []*x509.Certificate) string {
	parts := make([]string, len(certs))
	for i, c := range certs {
		parts[i] = base64.StdEncoding.EncodeToString(c.Raw)
	}
	return strings.Join(parts, ",")
}

func (p *pass) infoValue(certs []*x509.Certificate) string {
	parts := make([]string, 0, len(certs))
	for _, c := range certs {
		var v []string
		// Empty fields are left out.
		if p.subject != nil {
			if d := dn(c.Subject, *p.subject); d != "" {
				v = append(v, `Subject="`+d+`"`)
			}
		}
		if p.issuer != nil {
			if d := dn(c.Issuer, *p.issuer); d != "" {
				v = append(v, `Issuer="`+d+`"`)
			}
		}
		if p.serial && c.SerialNumber != nil {
			v = append(v, `SerialNumber="`+c.SerialNumber.String()+`"`)
		}
		if p.notBefore {
			v = append(v, `NB="`+strconv.FormatInt(c.NotBefore.Unix(), 10)+`"`)
		}
		if p.notAfter {
			v = append(v, `NA="`+strconv.FormatInt(c.NotAfter.Unix(), 10)+`"`)
		}
		if p.sans {
			var s []string
			s = append(s, c.DNSNames...)
			s = append(s, c.EmailAddresses...)
			for _, ip := range c.IPAddresses {
				s = append(s, ip.String())
			}
			for _, u := range c.URIs {
				s = append(s, u.String())
			}
			if len(s) > 0 {
				v = append(v, `SAN="`+strings.Join(s, ",")+`"`)
			}
		}
		parts = append(parts, strings.Join(v, ";"))
	}
	return url.QueryEscape(strings.Join(parts, ","))
}

var oidDC = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}

// dn renders the selected fields in Traefik's order: DC, C, ST, L, O, OU, SN, CN.
func dn(n pkix.Name, f dnFields) string {
	var out []string
	add := func(on bool, key string, vals []string) {
		if on {
			for _, v := range vals {
				out = append(out, key+"="+v)
			}
		}
	}
	var dcs []string
	for _, a := range n.Names {
		if a.Type.Equal(oidDC) {
			if s, ok := a.Value.(string); ok {
				dcs = append(dcs, s)
			}
		}
	}
	add(f.dc, "DC", dcs)
	add(f.c, "C", n.Country)
	add(f.st, "ST", n.Province)
	add(f.l, "L", n.Locality)
	add(f.o, "O", n.Organization)
	add(f.ou, "OU", n.OrganizationalUnit)
	if n.SerialNumber != "" {
		add(f.sn, "SN", []string{n.SerialNumber})
	}
	if n.CommonName != "" {
		add(f.cn, "CN", []string{n.CommonName})
	}
	return strings.Join(out, ",")
}

// ingress-nginx's client certificate headers (auth-tls-*).
const (
	HeaderNGINXCert      = "Ssl-Client-Cert"
	HeaderNGINXVerify    = "Ssl-Client-Verify"
	HeaderNGINXSubjectDN = "Ssl-Client-Subject-Dn"
	HeaderNGINXIssuerDN  = "Ssl-Client-Issuer-Dn"
)

// nginx sets ingress-nginx's headers as its template does with
// auth-tls-secret: the verification result (SUCCESS, NONE, or FAILED for
// a certificate that was not verified) and the RFC 2253 subject and
// issuer of the leaf, plus the URL-escaped PEM with pem. Client-sent
// headers of those names are always removed.
func nginx(withPEM bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, h := range []string{HeaderNGINXCert, HeaderNGINXVerify, HeaderNGINXSubjectDN, HeaderNGINXIssuerDN} {
				r.Header.Del(h)
			}
			if r.TLS != nil {
				verify := "NONE"
				if len(r.TLS.PeerCertificates) > 0 {
					leaf := r.TLS.PeerCertificates[0]
					verify = "FAILED:certificate not verified"
					if len(r.TLS.VerifiedChains) > 0 {
						verify = "SUCCESS"
					}
					r.Header.Set(HeaderNGINXSubjectDN, leaf.Subject.String())
					r.Header.Set(HeaderNGINXIssuerDN, leaf.Issuer.String())
					if withPEM {
						p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
						r.Header.Set(HeaderNGINXCert, strings.ReplaceAll(url.QueryEscape(string(p)), "+", "%20"))
					}
				}
				r.Header.Set(HeaderNGINXVerify, verify)
			}
			next.ServeHTTP(w, r)
		})
	}
}
