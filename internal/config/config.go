// Package config reads Leadron's settings from LEADRON_* environment
// variables. Everything has a development default; production refuses to
// start without the settings it must not guess.
package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is the server's configuration (see README.md#configuration).
type Config struct {
	Addr          string `env:"LEADRON_ADDR" envDefault:":8000"`
	DatabaseURL   string `env:"LEADRON_DATABASE_URL"`
	RedisURL      string `env:"LEADRON_REDIS_URL"`
	JWTSecret     string `env:"LEADRON_JWT_SECRET"`
	JWTSecretFile string `env:"LEADRON_JWT_SECRET_FILE"`
	Env           string `env:"LEADRON_ENV" envDefault:"development"`
	LogLevel      string `env:"LEADRON_LOG_LEVEL" envDefault:"info"`
	// LogFlushInterval is how long serve's log lines may wait in memory
	// before they are written (see cli's serveLogger); 0 writes each at once.
	LogFlushInterval time.Duration `env:"LEADRON_LOG_FLUSH_INTERVAL" envDefault:"100ms"`
	ShutdownTimeout  time.Duration `env:"LEADRON_SHUTDOWN_TIMEOUT" envDefault:"15s"`
	RequestTimeout   time.Duration `env:"LEADRON_REQUEST_TIMEOUT" envDefault:"10s"`
	// ClientIPHeader names the header a trusted reverse proxy puts the
	// client's IP in (e.g. X-Real-IP). Empty: the socket address is used,
	// because any client can forge such headers.
	ClientIPHeader string `env:"LEADRON_CLIENT_IP_HEADER"`
	// Per-client-IP rate limits (per minute, and bucket size).
	IPRateLimit          int `env:"LEADRON_IP_RATE_LIMIT" envDefault:"6000"`
	IPRateBurst          int `env:"LEADRON_IP_RATE_BURST" envDefault:"600"`
	AuthFailureRateLimit int `env:"LEADRON_AUTH_FAILURE_RATE_LIMIT" envDefault:"60"`
	AuthFailureRateBurst int `env:"LEADRON_AUTH_FAILURE_RATE_BURST" envDefault:"10"`
	// GraphQLIntrospection turns GraphQL introspection and field
	// suggestions on or off; unset, they are on in development only (see
	// GraphQLIntrospectionEnabled).
	GraphQLIntrospection *bool `env:"LEADRON_GRAPHQL_INTROSPECTION"`
	// Playground serves GraphiQL at /playground; unset, it is on in
	// development only (see PlaygroundEnabled).
	Playground *bool `env:"LEADRON_PLAYGROUND"`
	// PprofAddr, when set, serves Go's runtime profiles there
	// (/debug/pprof/), apart from the API. Bind it to loopback.
	PprofAddr string `env:"LEADRON_PPROF_ADDR"`
}

// GraphQLIntrospectionEnabled reports whether GraphQL introspection and
// field suggestions are on: LEADRON_GRAPHQL_INTROSPECTION when set, else on
// in development and off in production.
func (c Config) GraphQLIntrospectionEnabled() bool { return orDevelopment(c, c.GraphQLIntrospection) }

// PlaygroundEnabled reports whether /playground is served: LEADRON_PLAYGROUND
// when set, else on in development and off in production.
func (c Config) PlaygroundEnabled() bool { return orDevelopment(c, c.Playground) }

func orDevelopment(c Config, v *bool) bool {
	if v != nil {
		return *v
	}
	return !c.Production()
}

// MaxLogFlushInterval bounds LEADRON_LOG_FLUSH_INTERVAL: lines held longer
// would make the log useless for watching a running server.
const MaxLogFlushInterval = 10 * time.Second

// Production reports whether LEADRON_ENV is production.
func (c Config) Production() bool { return c.Env == "production" }

// Load reads the configuration from environ (as from os.Environ, split).
func Load(environ map[string]string) (Config, error) {
	var c Config
	if err := env.ParseWithOptions(&c, env.Options{Environment: environ}); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	switch c.Env {
	case "development", "production":
	default:
		return c, fmt.Errorf("configuration: LEADRON_ENV must be development or production, not %q", c.Env)
	}
	for name, n := range map[string]int{
		"LEADRON_IP_RATE_LIMIT": c.IPRateLimit, "LEADRON_IP_RATE_BURST": c.IPRateBurst,
		"LEADRON_AUTH_FAILURE_RATE_LIMIT": c.AuthFailureRateLimit, "LEADRON_AUTH_FAILURE_RATE_BURST": c.AuthFailureRateBurst,
	} {
		if n <= 0 {
			return c, fmt.Errorf("configuration: %s must be a positive number, not %d", name, n)
		}
	}
	if c.LogFlushInterval < 0 || c.LogFlushInterval > MaxLogFlushInterval {
		return c, fmt.Errorf("configuration: LEADRON_LOG_FLUSH_INTERVAL must be between 0 and %s, not %s", MaxLogFlushInterval, c.LogFlushInterval)
	}
	if c.Production() && c.JWTSecret == "" && c.JWTSecretFile == "" {
		return c, errors.New("configuration: LEADRON_JWT_SECRET or LEADRON_JWT_SECRET_FILE is required when LEADRON_ENV=production")
	}
	if c.Production() && c.DatabaseURL == "" {
		return c, errors.New("configuration: LEADRON_DATABASE_URL is required when LEADRON_ENV=production")
	}
	return c, nil
}
