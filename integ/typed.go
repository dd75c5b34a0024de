package integ

import "reflect"

// ConfigOf returns the run's config as a T, the source's config struct:
//
//	cfg, err := integ.ConfigOf[Config](c)
//
// The config is decoded once per process and type and then shared, so a
// child stream's runner, called once per parent record, does not decode it
// again. The value is a copy: changing it changes nothing for other runners.
func ConfigOf[T any](c *HttpContext) (T, error) {
	var zero T
	if c == nil || c.cfg == nil {
		return zero, errNoConfig
	}
	return typedConfig[T](c.cfg)
}

// typedConfig decodes cfg into a T on first use and caches the result.
func typedConfig[T any](cfg *Config) (T, error) {
	t := reflect.TypeFor[T]()
	cfg.typedMu.Lock()
	defer cfg.typedMu.Unlock()
	if v, ok := cfg.typed[t]; ok {
		return v.(T), nil
	}
	var v T
	if err := cfg.Decode(&v); err != nil {
		return v, err
	}
	if cfg.typed == nil {
		cfg.typed = map[reflect.Type]any{}
	}
	cfg.typed[t] = v
	return v, nil
}

// errNoConfig is returned by ConfigOf on a context built without a config.
var errNoConfig = &Error{Kind: SystemFailure, Msg: "integ: this context has no config"}
