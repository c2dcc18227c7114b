# Leadron's developer commands. `make run` and `make test` are the two a
# newcomer needs; see README.md.

GO        ?= go
PKGS      ?= ./...
# Test parallelism across packages; the suites share one PostgreSQL server.
TEST_P    ?= 2
MIGRATION ?= changes

.PHONY: run build test test-race fuzz generate check-generated lint fmt clean

## run: serve on the embedded SQLite default (./leadron.db) with a demo tenant
run:
	$(GO) run ./cmd/leadron serve --demo

## build: build bin/leadron
build:
	$(GO) build -o bin/leadron ./cmd/leadron

## test: every test, on SQLite and (when reachable) PostgreSQL
test:
	$(GO) test -p $(TEST_P) -count=1 $(PKGS)
	$(GO) test -p $(TEST_P) -count=1 -run xxx -bench . -benchtime 1x $(PKGS) >/dev/null

## test-race: the tests under the race detector
test-race:
	$(GO) test -p $(TEST_P) -count=1 -race $(PKGS)

## fuzz: run each fuzz target for FUZZTIME (its seed corpus runs in make test)
FUZZTIME     ?= 30s
FUZZ_PKGS    ?= ./ent ./internal/customfields ./internal/ids ./internal/jsonenc ./rest ./graph
fuzz:
	@for pkg in $(FUZZ_PKGS); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz: $$pkg $$target for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## generate: ent, GraphQL and migrations from ent/schema (MIGRATION=name)
generate:
	$(GO) run -mod=mod ./ent/entc.go
	$(GO) run -mod=mod ./graph/generate.go
	$(GO) run -mod=mod ./migrations/generate.go -name $(MIGRATION)

## check-generated: fail if generated code is stale
check-generated: generate
	@git diff --exit-code --stat -- ent graph migrations gqlgen.yml go.mod go.sum || \
		(echo "generated code is stale: run 'make generate' and commit the result" >&2; exit 1)
	@test -z "$$(git status --porcelain -- ent graph migrations)" || \
		(git status --porcelain -- ent graph migrations; echo "make generate created files that are not committed" >&2; exit 1)

## lint: vet and formatting
lint:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt needed" >&2; exit 1)

clean:
	rm -rf bin leadron.db leadron.db-shm leadron.db-wal

.PHONY: bench bench-quick soak

## bench: load benchmark of the real server against a raw pgx/SQLite baseline (wrk; PostgreSQL and SQLite; under 10 minutes)
bench:
	$(GO) run ./bench/cmd/bench

## bench-quick: the same at c=64 only, one A B round, 2s runs (under 2 minutes)
bench-quick:
	$(GO) run ./bench/cmd/bench -quick

## soak: SOAK_DURATION (default 10m) of mixed load on PostgreSQL from several tenants; fails on any 5xx or an upward trend in RSS, goroutines, DB connections or p99 (not in CI)
SOAK_DURATION ?= 10m
soak:
	$(GO) run ./bench/cmd/soak -duration $(SOAK_DURATION)
