// Package scope defines API-key scopes (resource:action), the bundles that
// expand to them, and the rights each user role grants. A Set is a bitset so
// that checking a scope on the hot path costs no allocation.
package scope

import (
	"fmt"
	"slices"
	"strings"
)

// Resource is what a scope protects.
type Resource uint8

// The resources named by the scope list in the brief.
const (
	Leads Resource = iota
	Companies
	Contacts
	Deals
	Notes
	Tags
	Tasks
	Webhooks
	APIKeys
	Users
	Audit
	numResources
)

var resourceNames = [numResources]string{"leads", "companies", "contacts", "deals", "notes", "tags", "tasks", "webhooks", "api_keys", "users", "audit"}

func (r Resource) String() string { return resourceNames[r] }

// Action is what a scope allows on a resource.
type Action uint8

// Read, Write and Delete are the three actions of a scope.
const (
	Read Action = iota
	Write
	Delete
	numActions
)

var actionNames = [numActions]string{"read", "write", "delete"}

func (a Action) String() string { return actionNames[a] }

// Scope is one resource:action pair.
type Scope struct {
	Resource Resource
	Action   Action
}

func (s Scope) String() string { return s.Resource.String() + ":" + s.Action.String() }

func (s Scope) bit() Set { return 1 << (uint(s.Resource)*uint(numActions) + uint(s.Action)) }

// Set is a set of scopes.
type Set uint64

// All holds every scope.
var All = func() Set {
	var s Set
	for r := range numResources {
		for a := range numActions {
			s |= Scope{r, a}.bit()
		}
	}
	return s
}()

// Of returns the set holding the given scopes.
func Of(scopes ...Scope) Set {
	var s Set
	for _, sc := range scopes {
		s |= sc.bit()
	}
	return s
}

// Has reports whether s holds sc.
func (s Set) Has(sc Scope) bool { return s&sc.bit() != 0 }

// Intersect returns the scopes held by both sets.
func (s Set) Intersect(o Set) Set { return s & o }

// Without returns the scopes of s that are not in o.
func (s Set) Without(o Set) Set { return s &^ o }

// Credentials are the scopes that make or change credentials: API keys and
// users (a user has a password). A rolled-over secret in its grace period
// keeps its key's other scopes but not these, so that a leaked secret
// cannot outlive the roll meant to retire it.
var Credentials = Of(
	Scope{APIKeys, Write}, Scope{APIKeys, Delete},
	Scope{Users, Write}, Scope{Users, Delete},
)

// Names lists the scopes in s in a stable order.
func (s Set) Names() []string {
	names := []string{}
	for r := range numResources {
		for a := range numActions {
			if sc := (Scope{r, a}); s.Has(sc) {
				names = append(names, sc.String())
			}
		}
	}
	return names
}

func resources(rs ...Resource) Set {
	var s Set
	for _, r := range rs {
		for a := range numActions {
			s |= Scope{r, a}.bit()
		}
	}
	return s
}

func actions(a Action) Set {
	var s Set
	for r := range numResources {
		s |= Scope{r, a}.bit()
	}
	return s
}

// Bundles are the named shortcuts accepted wherever scopes are given.
var Bundles = map[string]Set{
	"full_access": All,
	"read_only":   actions(Read),
	"crm":         resources(Leads, Companies, Contacts, Deals, Notes, Tags),
	"automation":  resources(Tasks, Webhooks, Leads),
}

// Parse turns scope names and bundle names into a Set. An unknown name is an
// error that names it, so callers can report the offending value.
func Parse(names []string) (Set, error) {
	var s Set
	for _, raw := range names {
		name := strings.TrimSpace(raw)
		if b, ok := Bundles[name]; ok {
			s |= b
			continue
		}
		sc, ok := lookup(name)
		if !ok {
			return 0, fmt.Errorf("unknown scope %q", name)
		}
		s |= sc.bit()
	}
	if s == 0 {
		return 0, fmt.Errorf("at least one scope is required")
	}
	return s, nil
}

func lookup(name string) (Scope, bool) {
	res, act, ok := strings.Cut(name, ":")
	if !ok {
		return Scope{}, false
	}
	r := slices.Index(resourceNames[:], res)
	a := slices.Index(actionNames[:], act)
	if r < 0 || a < 0 {
		return Scope{}, false
	}
	return Scope{Resource(r), Action(a)}, true
}

// Role is a user's role in its tenant.
type Role string

// The roles, from most to least privileged.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// Roles lists the valid roles.
var Roles = []Role{RoleOwner, RoleAdmin, RoleMember, RoleViewer}

// crmResources are the working data of a tenant, which members may change.
var crmResources = resources(Leads, Companies, Contacts, Deals, Notes, Tags, Tasks)

// ForRole returns the rights a role grants. A key's effective scopes are its
// own scopes intersected with its owner's rights (see docs/api.md#roles).
func ForRole(r Role) Set {
	switch r {
	case RoleOwner, RoleAdmin:
		return All
	case RoleMember:
		return crmResources | Of(Scope{Users, Read}, Scope{APIKeys, Read}, Scope{APIKeys, Write}, Scope{Webhooks, Read})
	case RoleViewer:
		return actions(Read) &^ Of(Scope{Audit, Read}, Scope{APIKeys, Read})
	}
	return 0
}
