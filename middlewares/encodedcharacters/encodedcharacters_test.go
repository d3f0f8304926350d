package encodedcharacters

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

func TestEncodedCharacters(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	deny, _ := Setup(&dynamic.EncodedCharacters{})
	slashOK, _ := Setup(&dynamic.EncodedCharacters{AllowEncodedSlash: true})
	for _, tc := range []struct {
		wrap   func(http.Handler) http.Handler
		target string
		want   int
	}{
		{deny, "/a/b?x=%2F", 200},
		{deny, "/a%2Fb", 400},
		{deny, "/a%2fb", 400},
		{deny, "/a%5Cb", 400},
		{deny, "/a%00", 400},
		{deny, "/a%3Bb", 400},
		{deny, "/a%25b", 400},
		{deny, "/a%3Fb", 400},
		{deny, "/a%23b", 400},
		{deny, "/a%41b", 200},
		{deny, "/a;b", 200},
		{slashOK, "/a%2Fb", 200},
		{slashOK, "/a%25b", 400},
	} {
		rec := httptest.NewRecorder()
		tc.wrap(ok).ServeHTTP(rec, httptest.NewRequest("GET", tc.target, nil))
		if rec.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.target, rec.Code, tc.want)
		}
	}
	all, _ := Setup(&dynamic.EncodedCharacters{AllowEncodedSlash: true, AllowEncodedBackSlash: true, AllowEncodedNullCharacter: true,
		AllowEncodedSemicolon: true, AllowEncodedPercent: true, AllowEncodedQuestionMark: true, AllowEncodedHash: true})
	if h := all(ok); h == nil {
		t.Fatal("nil handler")
	}
}
