package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/leadron/leadron/internal/apperr"
)

// The endpoint's limits. Requests beyond them are refused before anything
// runs. README.md#graphql documents them.
const (
	// MaxBodyBytes bounds a request body, as REST's does.
	MaxBodyBytes = 1 << 20
	// MaxTokens bounds the lexer tokens in a query document.
	MaxTokens = 5000
	// MaxDepth bounds field nesting (fragments add none; introspection is
	// bounded by the validator's own rule).
	MaxDepth = 10
	// MaxAliases bounds aliased fields in an operation, so one request
	// cannot ask for the same expensive field hundreds of times.
	MaxAliases = 30
	// MaxPage bounds first and last on a connection, and ids in nodes.
	MaxPage = 100
	// MaxComplexity bounds an operation's cost: one per field, with a
	// connection's selection counted once per requested row (see costed).
	MaxComplexity = 10000
	// MaxInputValues bounds the values in an operation's arguments,
	// variables included (each list element, object entry and scalar
	// counts one): a where filter or orderBy with thousands of terms would
	// cost the database seconds, or exceed its limits, before any row is
	// read. The token limit does not see variables.
	MaxInputValues = 1000
	// MaxInputDepth bounds how deep an argument's lists and objects nest
	// (a where filter's and, or and not).
	MaxInputDepth = 16
	// maxVisits bounds the work of checking an operation with fragments
	// spread many times over, whose expansion can be exponential.
	maxVisits = 20000
)

// limits is an operation validation step: it runs after gqlgen's own
// validation and before anything executes, and refuses operations that
// nest too deep, alias too much, page without bounds, or introspect when
// introspection is off.
//
// Its last check is the operation's cost, computed by gqlgen's complexity
// walker over the costed schema, once the others have bounded the
// operation's size.
type limits struct {
	introspection bool
	es            graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &limits{}

// ExtensionName names the extension for gqlgen.
func (*limits) ExtensionName() string { return "LeadronLimits" }

// Validate keeps the schema to compute costs with.
func (l *limits) Validate(es graphql.ExecutableSchema) error {
	l.es = es
	return nil
}

// MutateOperationContext refuses an operation beyond the limits.
func (l *limits) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := walker{introspection: l.introspection, vars: oc.Variables}
	if err := w.selections(oc.Operation.SelectionSet, 1, false); err != nil {
		return err
	}
	if cost := complexity.Calculate(ctx, l.es, oc.Operation, oc.Variables); cost > MaxComplexity {
		return tooComplex(oc.Operation.Position, fmt.Sprintf(
			"The operation costs %d, more than the limit of %d: each field costs 1, and a connection's or list's selection counts once per row that first or last asks for (100 for a plain list)", cost, MaxComplexity))
	}
	return nil
}

type walker struct {
	introspection           bool
	vars                    map[string]any
	aliases, visits, values int
}

// selections checks a selection set whose fields sit at depth. Inside
// introspection, depth is the validator's business; aliases still count.
func (w *walker) selections(set ast.SelectionSet, depth int, inIntrospection bool) *gqlerror.Error {
	for _, sel := range set {
		if w.visits++; w.visits > maxVisits {
			return tooComplex(nil, "The operation is too large to run; split it up")
		}
		switch s := sel.(type) {
		case *ast.Field:
			if err := w.field(s, depth, inIntrospection); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := w.selections(s.SelectionSet, depth, inIntrospection); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if s.Definition != nil {
				if err := w.selections(s.Definition.SelectionSet, depth, inIntrospection); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (w *walker) field(f *ast.Field, depth int, inIntrospection bool) *gqlerror.Error {
	if f.Alias != "" && f.Alias != f.Name {
		if w.aliases++; w.aliases > MaxAliases {
			return tooComplex(f.Position, fmt.Sprintf("The operation has more than %d aliased fields", MaxAliases))
		}
	}
	if f.Name == "__typename" {
		return nil
	}
	if strings.HasPrefix(f.Name, "__") {
		if !w.introspection {
			return refuse(f.Position, string(apperr.Forbidden), "", "Introspection is disabled on this server")
		}
		inIntrospection = true
	}
	if !inIntrospection && depth > MaxDepth {
		return tooComplex(f.Position, fmt.Sprintf("The operation nests fields deeper than %d levels", MaxDepth))
	}
	if !inIntrospection && f.Definition != nil {
		args := f.ArgumentMap(w.vars)
		for name, v := range args {
			if err := w.input(f, name, v, 1); err != nil {
				return err
			}
		}
		if err := w.page(f, args); err != nil {
			return err
		}
	}
	return w.selections(f.SelectionSet, depth+1, inIntrospection)
}

// input counts an argument's value, at depth, and what it holds against
// MaxInputValues and MaxInputDepth.
func (w *walker) input(f *ast.Field, arg string, v any, depth int) *gqlerror.Error {
	if w.values++; w.values > MaxInputValues {
		return refuse(f.Position, CodeTooComplex, arg, fmt.Sprintf("The operation's arguments hold more than %d values", MaxInputValues))
	}
	if depth > MaxInputDepth {
		return refuse(f.Position, CodeTooComplex, arg, fmt.Sprintf("%s nests lists and objects deeper than %d levels", arg, MaxInputDepth))
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := w.input(f, arg, e, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, e := range x {
			if err := w.input(f, arg, e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// page checks a connection's first and last (one of them, 0 to MaxPage)
// and the size of nodes' ids: an unbounded page would load every row.
func (w *walker) page(f *ast.Field, args map[string]any) *gqlerror.Error {
	if f.Definition.Arguments.ForName("ids") != nil && f.Name == "nodes" {
		if ids, _ := args["ids"].([]any); len(ids) > MaxPage {
			return refuse(f.Position, string(apperr.Validation), "ids", fmt.Sprintf("ids may list at most %d IDs", MaxPage))
		}
		return nil
	}
	if f.Definition.Arguments.ForName("first") == nil || f.Definition.Arguments.ForName("last") == nil {
		return nil
	}
	first, hasFirst := intArg(args["first"])
	last, hasLast := intArg(args["last"])
	switch {
	case hasFirst && hasLast:
		return refuse(f.Position, string(apperr.Validation), "last", "Pass first or last to "+f.Name+", not both")
	case !hasFirst && !hasLast:
		return refuse(f.Position, string(apperr.Validation), "first", fmt.Sprintf("%s needs first or last, at most %d", f.Name, MaxPage))
	case hasFirst && (first < 0 || first > MaxPage):
		return refuse(f.Position, string(apperr.Validation), "first", fmt.Sprintf("first must be between 0 and %d", MaxPage))
	case hasLast && (last < 0 || last > MaxPage):
		return refuse(f.Position, string(apperr.Validation), "last", fmt.Sprintf("last must be between 0 and %d", MaxPage))
	}
	return nil
}

// intArg reads an Int argument as the parser (int64) or the variables
// (json.Number) give it; a null or missing one is absent.
func intArg(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		return int64(math.Max(math.Min(x, math.MaxInt32), math.MinInt32)), true
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, true
		}
		return math.MaxInt32, true // not an Int the validator let by; refuse it as too large
	}
	return 0, false
}

// refuse builds the error for an operation refused before it runs. gqlgen
// reads the code to pick the HTTP status (422 for a request it refuses, as
// for its own validation), and the presenter then shows clientCode.
func refuse(pos *ast.Position, clientCode, field, message string) *gqlerror.Error {
	err := &gqlerror.Error{Message: message, Extensions: map[string]any{
		"code": errcode.ValidationFailed, clientCodeKey: clientCode,
	}}
	if field != "" {
		err.Extensions["field"] = field
	}
	if pos != nil {
		err.Locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
	}
	return err
}

// clientCodeKey carries the code to show from refuse to the presenter.
const clientCodeKey = "leadron.code"

func tooComplex(pos *ast.Position, message string) *gqlerror.Error {
	return refuse(pos, CodeTooComplex, "", message)
}

// costed is the executable schema with connection costs: a field taking
// first or last costs its selection once per row it may return, nodes once
// per ID, and a plain list of objects (a lead's duplicates, at most 100,
// and its merged leads) as if it held MaxPage rows, so nested lists
// multiply as their SQL would.
type costed struct {
	graphql.ExecutableSchema
	// lists holds "Type.field" for every field whose type is a list of
	// objects without first or last.
	lists map[string]bool
}

func newCosted(es graphql.ExecutableSchema) costed {
	lists := map[string]bool{}
	schema := es.Schema()
	for name, def := range schema.Types {
		if def.Kind != ast.Object || strings.HasPrefix(name, "__") || def.Fields.ForName("pageInfo") != nil {
			// Introspection is bounded by the schema's size, and a
			// connection's edges by the first or last it was given.
			continue
		}
		for _, f := range def.Fields {
			elem := f.Type
			if elem.Elem == nil {
				continue
			}
			for elem.Elem != nil {
				elem = elem.Elem
			}
			if t := schema.Types[elem.NamedType]; t == nil || (t.Kind != ast.Object && t.Kind != ast.Interface && t.Kind != ast.Union) {
				continue
			}
			if f.Arguments.ForName("first") == nil && f.Arguments.ForName("last") == nil && f.Arguments.ForName("ids") == nil {
				lists[name+"."+f.Name] = true
			}
		}
	}
	return costed{ExecutableSchema: es, lists: lists}
}

func (c costed) Complexity(ctx context.Context, typeName, field string, childComplexity int, args map[string]any) (int, bool) {
	rows, ok := int64(0), false
	if ids, isList := args["ids"].([]any); isList && field == "nodes" {
		rows, ok = int64(len(ids)), true
	} else if n, has := intArg(args["first"]); has {
		rows, ok = n, true
	} else if n, has := intArg(args["last"]); has {
		rows, ok = n, true
	} else if c.lists[typeName+"."+field] {
		rows, ok = MaxPage, true
	}
	if !ok {
		return c.ExecutableSchema.Complexity(ctx, typeName, field, childComplexity, args)
	}
	rows = min(max(rows, 1), MaxPage)
	if childComplexity > (math.MaxInt-1)/MaxPage {
		return math.MaxInt, true
	}
	return 1 + childComplexity*int(rows), true
}
