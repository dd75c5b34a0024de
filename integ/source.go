package integ

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/integ/integ/requests"
)

// Source declares an integration: its config type and its streams. Build it
// with NewSource; protocols turn it into a Singer tap and an Airbyte source.
type Source struct {
	Name             string // short name: "pokeapi" (binary tap-pokeapi)
	Title            string
	Description      string
	DocumentationURL string
	Version          string
	Streams          []*Stream

	configSchema *Schema
	configType   reflect.Type
	oauth        *OAuthSpec
	validator    *configValidator
	check        RunnerFunc
	middleware   []func(*Config) (requests.Middleware, error)
	auth         authFunc
	rps          float64
	burst        int
	userAgent    string
	dynamic      StreamsFunc
	schemaFn     SchemaFunc
	onError      ErrorPolicy
	retry        requests.RetryOptions
	adaptive     func() *requests.Adaptive
	err          error

	endpointLimits []endpointLimitFunc // see WithEndpointLimit

	partitionParallel int // see WithPartitionParallelism
}

// StreamsFunc builds streams from the validated config, for sources whose
// streams the user declares (the generic REST source). It may call the API
// through c.Do (to infer schemas, say); c has no stream, so it cannot emit.
type StreamsFunc func(c *HttpContext) ([]*Stream, error)

// BuildVersion is the version of sources that do not set their own; the
// build sets it with -ldflags "-X github.com/integ/integ/integ.BuildVersion=v1.2.3".
var BuildVersion = "dev"

// SourceOption configures a Source.
type SourceOption func(*Source)

// NewSource declares a source whose config has the type of config (a struct
// value). Declaration mistakes are kept and reported by Err, so that every
// command of the binary can print them instead of panicking at init.
func NewSource(name string, config any, opts ...SourceOption) *Source {
	s := &Source{Name: name, Title: name, Version: BuildVersion}
	for _, o := range opts {
		o(s)
	}
	var errs []error
	s.configType = reflect.TypeOf(config)
	schema, err := ConfigSchemaOf(config)
	if err != nil {
		errs = append(errs, fmt.Errorf("config: %w", err))
	} else {
		schema.Title = s.Title
		if err := addFrameworkSettings(schema); err != nil {
			errs = append(errs, err)
		}
		schema.Extra = map[string]json.RawMessage{"$schema": json.RawMessage(`"http://json-schema.org/draft-07/schema#"`)}
		s.configSchema = schema
		if s.validator, err = newConfigValidator(schema); err != nil {
			errs = append(errs, fmt.Errorf("config schema: %w", err))
		}
		if s.oauth != nil {
			if _, err := s.oauth.resolve(schema); err != nil {
				errs = append(errs, err)
			}
		}
	}
	seen := map[string]bool{}
	for _, st := range s.Streams {
		if err := st.validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[st.Name] {
			errs = append(errs, fmt.Errorf("stream %q declared twice", st.Name))
		}
		seen[st.Name] = true
	}
	errs = append(errs, checkParents(s.Streams)...)
	errs = append(errs, checkSlices(s.Streams)...)
	if len(s.Streams) == 0 && s.dynamic == nil {
		errs = append(errs, errors.New("no streams"))
	}
	if len(errs) > 0 {
		s.err = fmt.Errorf("source %q is declared wrong: %w", name, errors.Join(errs...))
	}
	return s
}

// WithTitle sets the human name.
func WithTitle(t string) SourceOption { return func(s *Source) { s.Title = t } }

// WithDescription sets the source's description.
func WithDescription(d string) SourceOption { return func(s *Source) { s.Description = d } }

// WithDocumentationURL links the source's documentation.
func WithDocumentationURL(u string) SourceOption { return func(s *Source) { s.DocumentationURL = u } }

// WithVersion sets the version reported by --version and --about.
func WithVersion(v string) SourceOption { return func(s *Source) { s.Version = v } }

// WithStreams adds streams.
func WithStreams(streams ...*Stream) SourceOption {
	return func(s *Source) { s.Streams = append(s.Streams, streams...) }
}

// WithStreamsFromConfig makes the source's streams depend on its config:
// protocols call ResolveStreams once the config is valid. It is
// WithStreamList for streams that come with their schemas.
func WithStreamsFromConfig(fn StreamsFunc) SourceOption {
	return func(s *Source) { s.dynamic = fn }
}

// WithCheck replaces the default connection check (read the first page of
// the first stream) with the integration's own.
func WithCheck(fn RunnerFunc) SourceOption { return func(s *Source) { s.check = fn } }

// WithMiddleware adds an HTTP middleware built from the validated config,
// typically authentication.
func WithMiddleware(fn func(*Config) (requests.Middleware, error)) SourceOption {
	return func(s *Source) { s.middleware = append(s.middleware, fn) }
}

// WithRateLimit sets the default client-side request rate shared by every
// stream of a run (requests per second and burst; rps <= 0: no limit).
func WithRateLimit(rps float64, burst int) SourceOption {
	return func(s *Source) { s.rps, s.burst = rps, burst }
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) SourceOption { return func(s *Source) { s.userAgent = ua } }

// NeedsConfig reports whether the streams are only known from a config, so
// discovery needs one.
func (s *Source) NeedsConfig() bool { return s.dynamic != nil }

// Resolve returns the source with its streams for cfg and every schema
// resolved: s itself for a source with static streams. Errors in the user's
// stream declarations are ConfigFailures; any stream that fails fails
// Resolve (ResolveStreams lets a protocol keep the others).
func (s *Source) Resolve(ctx context.Context, cfg *Config, o HTTPOptions) (*Source, error) {
	if s.err != nil || s.dynamic == nil {
		return s, s.err
	}
	r, err := s.ResolveStreams(ctx, cfg, ResolveOptions{HTTP: o, Schemas: SchemasAll})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Err reports a declaration error, or nil.
func (s *Source) Err() error { return s.err }

// ConfigSchema is the JSON Schema of the config, generated from its type.
func (s *Source) ConfigSchema() *Schema { return s.configSchema }

// SupportsIncremental reports whether any stream can sync incrementally.
// A source whose streams are listed at run time may have incremental ones:
// before listing (spec) it says it may.
func (s *Source) SupportsIncremental() bool {
	if s.dynamic != nil {
		return true
	}
	for _, st := range s.Streams {
		if st.ReplicationKey != "" {
			return true
		}
	}
	return false
}

// Stream returns the named stream, or nil.
func (s *Source) Stream(name string) *Stream {
	for _, st := range s.Streams {
		if st.Name == name {
			return st
		}
	}
	return nil
}

// StreamNames lists the streams in declared order.
func (s *Source) StreamNames() []string {
	out := make([]string, len(s.Streams))
	for i, st := range s.Streams {
		out[i] = st.Name
	}
	return out
}

// ParseConfig applies defaults and validates a raw config document. Errors
// are ConfigFailures naming each offending field.
func (s *Source) ParseConfig(raw json.RawMessage) (*Config, error) {
	if s.err != nil {
		return nil, s.err
	}
	cfg, err := s.validator.Validate(raw)
	if err != nil {
		return nil, err
	}
	if err := cfg.checkType(s.configType); err != nil {
		return nil, err
	}
	return cfg, nil
}

// UnknownConfigKeys lists top-level keys of cfg the config schema does not
// declare (likely typos), for a warning.
func (s *Source) UnknownConfigKeys(cfg *Config) []string {
	if s.validator == nil {
		return nil
	}
	return s.validator.UnknownKeys(cfg)
}

// WithRetry sets the source's retry policy, merged over the run's defaults
// (its non-zero fields win; the config's max_attempts wins over both):
// how many attempts, how long a server-requested wait may be
// (MaxRetryAfter: raise it to wait out an hourly reset, which is then
// logged when the wait starts and when it ends), and Classifiers that
// recognise the API's rate-limit refusals.
//
//	integ.WithRetry(requests.RetryOptions{
//		MaxRetryAfter: time.Hour,
//		Classifiers:   []requests.RetryClassifier{requests.GitHubRateLimits()},
//	})
func WithRetry(o requests.RetryOptions) SourceOption {
	return func(s *Source) { s.retry = s.retry.Merge(o) }
}

// WithAdaptiveLimit slows requests down as the API's rate-limit headers
// say its budget runs low, before it answers 429. One limiter is shared by
// every stream of a run; readers say how to read the headers
// (requests.ShopifyCallLimit, requests.RateLimitRemaining,
// requests.SalesforceLimitInfo, or the API's own).
func WithAdaptiveLimit(o requests.AdaptiveOptions) SourceOption {
	return func(s *Source) { s.adaptive = func() *requests.Adaptive { return requests.NewAdaptive(o) } }
}
