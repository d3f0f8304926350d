# Switchyard — common commands. `make test` is what CI runs (.ci/run).
GO       ?= go
BIN      ?= bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/switchyard-proxy/switchyard/internal/version.Version=$(VERSION) \
            -X github.com/switchyard-proxy/switchyard/internal/version.BuildDate=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)
# Everything but the black-box tests runs with the race detector.
CORE_PKGS = $(shell $(GO) list ./... | grep -v /integration)
# make fuzz: FUZZTIME per target (48 targets: about 1 h 45 at 2m; a quick
# pass is `make fuzz FUZZTIME=20s`), FUZZ a regexp on "package Target",
# FUZZFLAGS extra go test flags (default -fuzzminimizetime=10s).
FUZZTIME ?= 2m
FUZZ     ?=

.PHONY: all build run compat-doc test test-unit test-integration consul kvstores kube mqtt crds helm helm-lint manifests image image-local docker lint fmt fuzz fuzz-list bench bench-quick bench-idle bench-upgrade bench-obs bench-smoke bench-tls bench-tlcp clean

all: build

build: ## build bin/switchyard and the demo backend bin/whoami
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/switchyard ./cmd/switchyard
	$(GO) build -trimpath -o $(BIN)/whoami ./cmd/whoami

run: build ## quick start: embedded example config + in-process demo backends on :8080
	./$(BIN)/switchyard

test: test-unit test-integration ## the whole suite (CI runs exactly this)

test-unit:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 10m $(CORE_PKGS)

test-integration: consul kube helm mqtt docker
	$(GO) test -count=1 -timeout 20m ./integration/...

consul: ## build the real Consul agent for the integration tests once (cached in ~/.cache/switchyard/consul-VERSION)
	GO=$(GO) integration/consul/build.sh

lint: ## gofmt, go vet and golangci-lint (installed on first use)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...
	@command -v golangci-lint >/dev/null 2>&1 || $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" golangci-lint run ./...

docker: ## Debian's docker.io (Engine 20.10) for the Docker provider tests; each test run starts its own dockerd (own roots and socket, no bridge, no iptables)
	@command -v dockerd >/dev/null 2>&1 || (apt-get install -y --no-install-recommends docker.io >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y --no-install-recommends docker.io))

mqtt: ## Debian's mosquitto broker for TestMQTTRouting (run as a child process, not a service)
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || (apt-get install -y --no-install-recommends mosquitto >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y --no-install-recommends mosquitto))

kvstores: ## Redis, etcd and ZooKeeper servers from Debian for the KV provider tests (ZooKeeper pulls OpenJDK)
	@for p in redis-server:redis-server etcd:etcd-server /usr/share/java/zookeeper.jar:zookeeper; do \
		c=$${p%%:*}; pkg=$${p##*:}; \
		if ! command -v $$c >/dev/null 2>&1 && [ ! -e $$c ]; then \
			apt-get install -y --no-install-recommends $$pkg >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y --no-install-recommends $$pkg); \
		fi; \
	done

kube: ## etcd (Debian's etcd-server) and a real kube-apiserver built once (cached in ~/.cache/switchyard/kube-apiserver-VERSION)
	@command -v etcd >/dev/null 2>&1 || (apt-get install -y --no-install-recommends etcd-server >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y --no-install-recommends etcd-server))
	GO=$(GO) integration/kube/build.sh

crds: ## regenerate deploy/crds/ (the kubernetesCRD provider's CustomResourceDefinitions) from the Go types with controller-gen
	GO=$(GO) scripts/crds.sh

helm: ## build Helm once for the deployment tests (cached in ~/.cache/switchyard/helm-VERSION)
	GO=$(GO) integration/helm/build.sh

helm-lint: helm ## lint the chart deploy/helm/switchyard
	$$(GO=$(GO) integration/helm/build.sh | tail -n1) lint --strict deploy/helm/switchyard

manifests: helm ## render deploy/manifests/ from the chart (the deployment test fails when they drift)
	deploy/helm/render-manifests.sh "$$(GO=$(GO) integration/helm/build.sh | tail -n1)"

image-local: ## the same image with no registry: static binary + CA bundle on scratch (deploy/docker/Dockerfile.scratch), built by the local Engine
	deploy/docker/context.sh $(BIN)/image-context $(VERSION)
	DOCKER_BUILDKIT=0 docker build -t switchyard:$(VERSION) $(BIN)/image-context

image: ## build the container image (needs docker and a registry: not runnable in this workplace)
	docker build --build-arg VERSION=$(VERSION) -t switchyard:$(VERSION) .

compat-doc: ## regenerate docs/compatibility.md from config/compat (a test fails when it is stale)
	go generate ./config/compat

fmt:
	gofmt -w $$(git ls-files '*.go')

fuzz: ## every fuzz target for FUZZTIME each (default 2m; quick: FUZZTIME=20s; subset: FUZZ=http1) (docs/fuzzing.md)
	GO=$(GO) FUZZTIME=$(FUZZTIME) $(if $(FUZZFLAGS),FUZZFLAGS='$(FUZZFLAGS)') scripts/fuzz.sh '$(FUZZ)'

fuzz-list: ## list the fuzz targets ("package Target")
	@scripts/fuzz.sh -l '$(FUZZ)'

# Benchmarks (docs/benchmarks.md): bench/setup.sh installs nginx, HAProxy, wrk, h2load and builds
# Traefik once into bench/.cache; the harness runs on core 1, the proxies on core 0.
BENCH_FLAGS ?=
bench: build ## Switchyard vs Traefik, nginx, HAProxy: S1-S14, best of 3 (about 30 min); results in bench/results/
	bench/setup.sh
	$(GO) build -o bench/.cache/bin/harness ./bench
	taskset -c 1 bench/.cache/bin/harness $(BENCH_FLAGS)
	$(MAKE) bench-tlcp

bench-quick: build ## S1-S3, one round (about a minute)
	bench/setup.sh
	$(GO) build -o bench/.cache/bin/harness ./bench
	taskset -c 1 bench/.cache/bin/harness -quick $(BENCH_FLAGS)

bench-idle: build ## long idle connections (S10-S13, 20,000 each): CPU per idle second and KiB per connection vs nginx, HAProxy, Traefik
	bench/setup.sh
	$(GO) build -o bench/.cache/bin/harness ./bench
	taskset -c 1 bench/.cache/bin/harness -only S10,S11,S12,S13 -profile 0 -tag idle $(BENCH_FLAGS)

bench-upgrade: build ## binary upgrade twice under HTTP load (S14): upgrade time and errors vs nginx and HAProxy
	bench/setup.sh
	$(GO) build -o bench/.cache/bin/harness ./bench
	taskset -c 1 bench/.cache/bin/harness -only S14 -profile 0 -tag upgrade $(BENCH_FLAGS)

bench-obs: build ## overhead of metrics + access log: S1, S2 with both off vs on (Switchyard only)
	$(GO) build -o bench/.cache/bin/harness ./bench
	taskset -c 1 bench/.cache/bin/harness -only S1,S2 -profile 0 -peers Switchyard,Switchyard+obs $(BENCH_FLAGS)

bench-tls: build ## TLS handshakes/s (ECDSA, RSA) and h2-over-TLS req/s vs nginx and HAProxy (needs h2load)
	scripts/bench-tls.sh

bench-tlcp: ## TLCP full handshakes and SM4-GCM/CBC throughput next to TLS 1.3 ECDHE-P256/AES-GCM, same machine (Go benchmarks, loopback)
	mkdir -p bench/results
	f=bench/results/$$(date +%F)-$$(git rev-parse --short HEAD)-tlcp.txt; $(GO) test -run XXX -bench . -benchtime 2s ./tls/tlcp > $$f; rc=$$?; cat $$f; exit $$rc

bench-smoke: ## the harness's own smoke test: every scenario ~1 s against Switchyard only
	SKIP_TRAEFIK=1 bench/setup.sh
	SWITCHYARD_BENCH_SMOKE=1 $(GO) test -count=1 -run TestSmoke -v ./bench

clean:
	rm -rf $(BIN)
