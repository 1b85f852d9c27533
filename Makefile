SHELL := /bin/bash
# PVE-Op-Network-Rescue. `make test` is what CI runs (.ci/run).
GO      ?= go
BINS    := netcheck hostcheck midnight-reset
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -s -w -X github.com/pve-op/network-rescue/internal/cli.Version=$(VERSION)
DIST_ARCHS := amd64 arm64 armv7 armv5 mipsle mips
SHELL_FILES := $(wildcard scripts/*.sh) $(wildcard packaging/*.sh) packaging/deb/preinst packaging/deb/postinst packaging/deb/postrm .ci/run
# make release: the commit's time stamps every file (reproducible builds).
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
DEB_MAINTAINER ?= $(shell git log -1 --format='%an <%ae>' 2>/dev/null)
RELEASE_ARCHS ?= $(DIST_ARCHS)
DEB_ARCHS ?= amd64 arm64

.PHONY: all build test lint unit dist release bench clean

all: build

build:
	@mkdir -p bin
	for b in $(BINS); do [ -d cmd/$$b ] || continue; \
	  CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/$$b ./cmd/$$b || exit 1; done

# gofmt is Go's own (GOROOT/bin), so a PATH with only `go` on it works.
# Without shellcheck the shell scripts are not linted, said loudly, so
# that `make test` runs on any Linux with Go; CI=true requires it.
lint:
	@gofmt="$$($(GO) env GOROOT)/bin/gofmt"; \
	  out=$$("$$gofmt" -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')) || exit 1; \
	  if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v shellcheck >/dev/null 2>&1; then \
	  echo "shellcheck -s sh $(SHELL_FILES)"; shellcheck -s sh $(SHELL_FILES); \
	elif [ "$$CI" = true ]; then \
	  echo "error: shellcheck is not installed, and CI=true needs it to lint the shell scripts" >&2; \
	  echo "  fix: apt-get install shellcheck" >&2; exit 1; \
	else \
	  echo "SKIP: shellcheck not installed: shell scripts not linted (CI installs it)" >&2; \
	fi

# The end-to-end tests run when root with the tools installed, and say
# loudly when they skip. -p 2 keeps two packages' namespaces side by side.
# The full verbose log is in .test.log; on failure it is printed whole.
# scripts/test-summary.sh prints the summary: an end-to-end test counts
# when it logged E2E-RAN (its namespaces were set up) and passed.
test: lint
	@$(GO) test -count=1 -p 2 -timeout 15m -v ./... > .test.log 2>&1; status=$$?; \
	  if [ $$status -ne 0 ]; then cat .test.log; fi; \
	  sh scripts/test-summary.sh .test.log; \
	  exit $$status

dist:
	@for a in $(DIST_ARCHS); do \
	  case $$a in \
	    armv7) goarch=arm; extra="GOARM=7";; \
	    armv5) goarch=arm; extra="GOARM=5";; \
	    mips|mipsle) goarch=$$a; extra="GOMIPS=softfloat";; \
	    *) goarch=$$a; extra="";; \
	  esac; \
	  mkdir -p dist/linux-$$a; \
	  for b in $(BINS); do [ -d cmd/$$b ] || continue; \
	    env CGO_ENABLED=0 GOOS=linux GOARCH=$$goarch $$extra $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
	      -o dist/linux-$$a/$$b ./cmd/$$b || exit 1; done; \
	  echo "dist/linux-$$a: $$(ls dist/linux-$$a | tr '\n' ' ')"; \
	done

# release/netrescue-VERSION-linux-ARCH.tar.gz for every arch, the host
# package release/netrescue_VERSION_ARCH.deb (amd64, arm64) and
# release/SHA256SUMS; reproducible: run it twice and compare SHA256SUMS.
release:
	VERSION='$(VERSION)' SOURCE_DATE_EPOCH='$(SOURCE_DATE_EPOCH)' DEB_MAINTAINER='$(DEB_MAINTAINER)' \
	  RELEASE_ARCHS='$(RELEASE_ARCHS)' DEB_ARCHS='$(DEB_ARCHS)' GO='$(GO)' OUT=release sh packaging/release.sh

clean:
	rm -rf bin dist release .test.log

.PHONY: demo bench

# The rescue, live in three network namespaces (root, no internet needed).
demo:
	sh scripts/demo.sh

# The SPEC §12 figures, measured and written to BENCHMARKS.md (root).
bench:
	sh scripts/bench.sh
