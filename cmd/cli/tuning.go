package cli

import (
	"context"

	"github.com/integ/integ/integ"
)

type tuningKey struct{}

// WithSyncOptions returns a context under which Execute's syncs start from
// o's tuning (HTTP, checkpoint interval and records, clock) instead of
// HTTPDefaults: integtest checkpoints every page this way. The protocol
// still sets o's Config, Catalog, State, Protocol, Output and Logger.
func WithSyncOptions(ctx context.Context, o integ.SyncOptions) context.Context {
	return context.WithValue(ctx, tuningKey{}, o)
}

// syncOptions is the tuning a command's sync starts from.
func syncOptions(ctx context.Context) integ.SyncOptions {
	if o, ok := ctx.Value(tuningKey{}).(integ.SyncOptions); ok {
		return o
	}
	return integ.SyncOptions{HTTP: HTTPDefaults, CheckpointRecords: CheckpointRecords}
}
