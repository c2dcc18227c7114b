//go:build ignore

// generate runs gqlgen over gqlgen.yml, then specializes two of its
// generated paths, which cost most of a GraphQL page's CPU. Run it from the
// module root through `make generate`, after ent/entc.go.
//
//  1. Lists. gqlgen starts a goroutine per list element whatever the element
//     selects (gqlgen#3202, #4321). Our list elements are ent rows whose
//     edges entgql loads with the list, so for most selections those
//     goroutines do no I/O: a third of a 50-row page's CPU. The generated
//     list marshalers call marshalList (graph/lists.go) instead of
//     MarshalSliceConcurrently; it keeps gqlgen's concurrency for
//     selections that reach a resolver of ours, listed in
//     graph/resolvers_gen.go, which this step writes.
//  2. Plain leaves. A field of a scalar or enum type that only reads a
//     struct field of its object (obj.Email: no resolver, method or
//     directive) went through
//     graphql.ResolveField, which gives it a field context, a context value,
//     closures, a recover and the field middleware, and boxes the value:
//     650 times for a page of 50 leads with 13 fields. It now calls its
//     marshaler on the value. What that skips: gqlgen's field middleware,
//     which no extension of ours uses (TestNoExtensionInterceptsFields
//     keeps it so); a recover around scalar marshalers, which do not panic;
//     and the field's own entry in an error path, which only a scalar
//     marshaler's own error would carry.
//  3. Objects. An object marshaler whose fields are all resolved (none
//     deferred) returns an object (graph/objects.go), which writes them as
//     gqlgen's FieldSet does without a heap copy of each field and a map
//     of their names.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

const (
	concurrentCall = "graphql.MarshalSliceConcurrently(ctx, len(v),"
	listCall       = "marshalList(ctx, sel, len(v),"
	resolversFile  = "graph/resolvers_gen.go"
)

func main() {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		log.Fatalf("loading gqlgen.yml: %v", err)
	}
	fields := &resolverFields{leaves: map[string]bool{}}
	if err := api.Generate(cfg, api.AddPlugin(fields)); err != nil {
		log.Fatalf("gqlgen: %v", err)
	}
	if err := useMarshalList(cfg.Exec.Filename); err != nil {
		log.Fatal(err)
	}
	if err := marshalPlainFields(cfg.Exec.Filename, fields.leaves); err != nil {
		log.Fatal(err)
	}
	if err := returnObjects(cfg.Exec.Filename); err != nil {
		log.Fatal(err)
	}
}

// objectReturn is how a generated object marshaler ends; objectReturned is
// what returnObjects makes of it.
const (
	objectReturn = `	if n := len(deferred.Defers); n > 0 {
		atomic.AddInt32(&ec.Deferred, int32(min(n, math.MaxInt32)))
		ec.ProcessDeferredGroup(deferred)
	}

	return out
}
`
	objectReturned = `	if n := len(deferred.Defers); n > 0 {
		atomic.AddInt32(&ec.Deferred, int32(min(n, math.MaxInt32)))
		ec.ProcessDeferredGroup(deferred)
		return out
	}
	return object{fields: fields, values: out.Values}
}
`
)

// returnObjects makes the marshalers of the schema's objects (the methods
// with an obj argument; the Query and Mutation roots keep gqlgen's
// FieldSet) return an object when no field is deferred. Finding none
// means gqlgen's object template changed and this step needs a look.
func returnObjects(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	funcs := strings.Split(string(src), "\nfunc ")
	n := 0
	for i, fn := range funcs {
		header, _, _ := strings.Cut(fn, "\n")
		if !strings.Contains(header, ", obj ") || !strings.Contains(fn, "out := graphql.NewFieldSet(fields)") {
			continue
		}
		if strings.Count(fn, objectReturn) != 1 {
			name, _, _ := strings.Cut(header, "(ctx")
			return fmt.Errorf("%s: the object marshaler %s does not end as graph/generate.go expects: gqlgen's object template changed, update it", path, name)
		}
		funcs[i] = strings.Replace(fn, objectReturn, objectReturned, 1)
		n++
	}
	if n == 0 {
		return fmt.Errorf("%s: no object marshaler found: gqlgen's object template changed, update graph/generate.go", path)
	}
	return os.WriteFile(path, []byte(strings.Join(funcs, "\nfunc ")), 0o644)
}

// plainField is gqlgen's function for a field that reads a struct field of
// its object and has no middleware (directives) of its own; the first
// group is the function's name.
var plainField = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (_[\p{L}\p{N}_]+)\(ctx context\.Context, field graphql\.CollectedField, obj [^)\n]+\) \(ret graphql\.Marshaler\) \{
	return graphql\.ResolveField\(
		ctx,
		ec\.OperationContext,
		field,
		func\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{
			return ec\.fieldContext_[\p{L}\p{N}_]+\(ctx, field\)
		\},
		func\(ctx context\.Context\) \(any, error\) \{
			return (obj\.[A-Z]\w*), nil
		\},
		nil,
		func\(ctx context\.Context, selections ast\.SelectionSet, v [^)\n]+\) graphql\.Marshaler \{
			return (ec\.marshal[\p{L}\p{N}_]+)\(ctx, selections, v\)
		\},
		true,
		(?:true|false),
	\)
\}$`)

// marshalPlainFields makes each plain field of a scalar or enum type
// (leaves, by function name) call its marshaler on the value. Object
// fields keep gqlgen's path: their field context is the parent of their
// children's, which error paths and marshalList need. Finding no plain leaf
// means gqlgen's field template changed.
func marshalPlainFields(path string, leaves map[string]bool) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	n := 0
	out := plainField.ReplaceAllFunc(src, func(fn []byte) []byte {
		m := plainField.FindSubmatch(fn)
		name, value, marshal := string(m[1]), m[2], m[3]
		if !leaves[name] {
			return fn
		}
		n++
		header := fn[:bytes.IndexByte(fn, '\n')+1]
		return fmt.Appendf(bytes.Clone(header), "\treturn %s(ctx, field.Selections, %s)\n}", marshal, value)
	})
	if n == 0 {
		return fmt.Errorf("%s: no plain leaf field found: gqlgen's field template changed, update graph/generate.go", path)
	}
	return os.WriteFile(path, out, 0o644)
}

// useMarshalList rewrites the generated list marshalers. Each is a method
// with the element selection in `sel`; finding none means gqlgen's
// template changed and this step needs a look.
func useMarshalList(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	n := bytes.Count(src, []byte(concurrentCall))
	if n == 0 {
		return fmt.Errorf("%s: no %q found: gqlgen's list template changed, update graph/generate.go", path, concurrentCall)
	}
	out := bytes.ReplaceAll(src, []byte(concurrentCall), []byte(listCall))
	if bytes.Contains(out, []byte("MarshalSliceConcurrently")) {
		return fmt.Errorf("%s: a MarshalSliceConcurrently call of another shape is left: update graph/generate.go", path)
	}
	return os.WriteFile(path, out, 0o644)
}

// resolverFields is a gqlgen plugin that writes the fields served by a
// resolver of ours (graph/*.resolvers.go), as "Type.field", and notes the
// generated function of every field of a scalar or enum type in leaves.
type resolverFields struct{ leaves map[string]bool }

func (*resolverFields) Name() string { return "leadron-resolver-fields" }

func (r *resolverFields) GenerateCode(data *codegen.Data) error {
	var fields []string
	for _, o := range data.Objects {
		for _, f := range o.Fields {
			if f.TypeReference != nil && f.TypeReference.Definition.IsLeafType() {
				r.leaves["_"+o.Name+"_"+f.Name] = true
			}
		}
		if o.Root {
			continue // Query, Mutation: never inside a list
		}
		for _, f := range o.Fields {
			if f.IsResolver {
				fields = append(fields, o.Name+"."+f.Name)
			}
		}
	}
	slices.Sort(fields)
	var b strings.Builder
	b.WriteString("// Code generated by graph/generate.go, DO NOT EDIT.\n\npackage graph\n\n")
	b.WriteString("// resolverFields are the fields, as \"Type.field\", that a resolver of ours\n")
	b.WriteString("// serves; a list whose elements select one is marshalled concurrently.\n")
	b.WriteString("var resolverFields = map[string]bool{\n")
	for _, f := range fields {
		fmt.Fprintf(&b, "\t%q: true,\n", f)
	}
	b.WriteString("}\n")
	src, err := format.Source([]byte(b.String()))
	if err != nil {
		return err
	}
	return os.WriteFile(resolversFile, src, 0o644)
}
