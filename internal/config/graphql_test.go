package config_test

import (
	"testing"

	"github.com/leadron/leadron/internal/config"
)

// Introspection and the playground default to on in development and off
// in production, and either can be set explicitly.
func TestGraphQLSettings(t *testing.T) {
	prod := map[string]string{"LEADRON_ENV": "production", "LEADRON_JWT_SECRET": "s", "LEADRON_DATABASE_URL": "postgres://x"}
	with := func(base map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	for _, tc := range []struct {
		name                      string
		environ                   map[string]string
		introspection, playground bool
	}{
		{"development", map[string]string{}, true, true},
		{"production", prod, false, false},
		{"production, both on", with(prod, "LEADRON_GRAPHQL_INTROSPECTION", "true", "LEADRON_PLAYGROUND", "1"), true, true},
		{"production, playground only", with(prod, "LEADRON_PLAYGROUND", "true"), false, true},
		{"development, both off", map[string]string{"LEADRON_GRAPHQL_INTROSPECTION": "false", "LEADRON_PLAYGROUND": "false"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(tc.environ)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.GraphQLIntrospectionEnabled(); got != tc.introspection {
				t.Errorf("introspection %v, want %v", got, tc.introspection)
			}
			if got := c.PlaygroundEnabled(); got != tc.playground {
				t.Errorf("playground %v, want %v", got, tc.playground)
			}
		})
	}
	if _, err := config.Load(map[string]string{"LEADRON_PLAYGROUND": "maybe"}); err == nil {
		t.Error("LEADRON_PLAYGROUND=maybe was accepted")
	}
}
