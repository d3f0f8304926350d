// Package examples ships the quick-start configuration inside the binary.
package examples

import _ "embed"

// QuickstartStatic is examples/quickstart/switchyard.yml.
//
//go:embed quickstart/switchyard.yml
var QuickstartStatic []byte

// QuickstartDynamic is examples/quickstart/dynamic.yml.
//
//go:embed quickstart/dynamic.yml
var QuickstartDynamic []byte

// QuickstartBackends are the demo backends the quick start routes to.
var QuickstartBackends = []string{"127.0.0.1:9001", "127.0.0.1:9002"}
