// Command whoami is the demo backend: it echoes host, path, headers and its
// own name. `whoami --port 9001 --name app-1`.
package main

import (
	"flag"
	"log"
	"net/http"
	"strconv"

	"github.com/switchyard-proxy/switchyard/internal/whoami"
)

func main() {
	port := flag.Int("port", 80, "port to listen on")
	addr := flag.String("addr", "", "address to listen on (overrides --port)")
	name := flag.String("name", "", "name to report (default: hostname)")
	flag.Parse()
	if *addr == "" {
		*addr = ":" + strconv.Itoa(*port)
	}
	log.Printf("whoami %q listening on %s", *name, *addr)
	log.Fatal(http.ListenAndServe(*addr, whoami.New(*name)))
}
