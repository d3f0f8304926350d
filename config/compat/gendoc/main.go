// Command gendoc writes docs/compatibility.md from config/compat's tables.
package main

import (
	"flag"
	"log"
	"os"
	"reflect"

	"github.com/switchyard-proxy/switchyard/config/compat"
	"github.com/switchyard-proxy/switchyard/config/dynamic"
	"github.com/switchyard-proxy/switchyard/config/static"
)

func main() {
	out := flag.String("out", "docs/compatibility.md", "file to write")
	readme := flag.String("readme", "README.md", "README whose compatibility summary is updated")
	flag.Parse()
	st, dy := reflect.TypeFor[static.Configuration](), reflect.TypeFor[dynamic.Configuration]()
	if err := os.WriteFile(*out, []byte(compat.Markdown(st, dy)), 0o644); err != nil {
		log.Fatal(err)
	}
	src, err := os.ReadFile(*readme)
	if err != nil {
		log.Fatal(err)
	}
	updated, err := compat.UpdateReadme(string(src), st, dy)
	if err != nil {
		log.Fatalf("%s: %v", *readme, err)
	}
	if err := os.WriteFile(*readme, []byte(updated), 0o644); err != nil {
		log.Fatal(err)
	}
}
