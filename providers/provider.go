// Package providers defines the contract every dynamic-configuration
// provider fulfils; each provider lives in its own sub-package.
package providers

import (
	"context"

	"github.com/switchyard-proxy/switchyard/config/dynamic"
)

// Provider streams whole dynamic configurations.
type Provider interface {
	// Init validates the provider's own configuration; nothing is started.
	Init() error
	// Provide runs until ctx is done. It sends whole configurations only,
	// never diffs, and keeps the last good one on a backend error.
	Provide(ctx context.Context, out chan<- dynamic.Message) error
}
