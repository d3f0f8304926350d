// Package version holds build information, set with -ldflags -X.
package version

import "time"

// Set at build time: -ldflags "-X github.com/switchyard-proxy/switchyard/internal/version.Version=v0.1.0".
var (
	Version   = "dev"
	Codename  = "caboose"
	BuildDate = "unknown"
)

// StartDate is when this process started.
var StartDate = time.Now()
