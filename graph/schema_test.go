package graph_test

import (
	"strings"
	"testing"

	"github.com/leadron/leadron/graph"
)

// What the dashboard must never see or write is kept out of the schema by
// annotations on the ent schema, not by resolvers.
func TestSchemaHidesSecretsAndServerFields(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	hidden := []string{"keyhash", "previouskeyhash", "previousexpiresat", "passwordhash", "tokenversion",
		"tenantid", "emailnormalized", "phonenormalized", "refreshtoken", "idempotency"}
	// Server-set fields that no input may carry.
	noInput := []string{"createdat", "updatedat", "version", "archivedat", "environment", "prefix", "last4", "revokedat", "lastusedat", "ownerid"}
	for name, def := range schema.Types {
		if strings.HasPrefix(name, "__") {
			continue
		}
		for _, f := range def.Fields {
			n := strings.ToLower(f.Name)
			for _, h := range hidden {
				if strings.Contains(strings.ToLower(name), h) || n == h || strings.HasPrefix(n, h) {
					t.Errorf("%s.%s is in the schema", name, f.Name)
				}
			}
			if strings.HasSuffix(name, "Input") && !strings.HasSuffix(name, "WhereInput") {
				for _, s := range noInput {
					if n == s || n == "clear"+s {
						t.Errorf("input %s.%s lets a client set a server field", name, f.Name)
					}
				}
			}
		}
	}
	if schema.Types["APIKey"] == nil || schema.Types["CreateLeadInput"] == nil || schema.Types["Mutation"] == nil {
		t.Fatal("the schema is missing its types; the test would prove nothing")
	}
}
