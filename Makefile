# The README's commands: `make run` and `make test`.
#
#   make deps     install missing Debian packages (scripts/install-deps), then
#                 helm and, without a kubectl >= 1.24 on the PATH, kubectl into
#                 tools/ (scripts/install-tools); a no-op when all are present,
#                 and a failure stops make here
#   make build    configure and build build/ (RelWithDebInfo); programs in build/bin/
#   make run      build, then run the agent against the built-in local cluster
#   make test     build the sanitizer configuration (ASan+UBSan) in build-asan/
#                 and run every test through ctest
#   make release  Release build in build-release/ (benchmarks)
#   make image    the container image build/istio-csr-<appVersion>.oci.tar
#                 (scripts/build-image: Release build of istio-csr and csrctl,
#                 Debian 12 packages of image/packages, no base image); first
#                 installs umoci, bubblewrap and skopeo (docs/image.md)
#   make chaos    the chaos drill (scripts/run-chaos, docs/chaos.md) on the
#                 Release build: CHAOS_DURATION (60s), CHAOS_SEED, CHAOS_RATE
#                 (`make test` runs a 10-second drill under ASan/UBSan)
#   make fresh-check  `make test` and `make run` in a fresh minimal Debian 12
#                 root (scripts/fresh-check; slow, a full build; not in test)
#   make fuzz     installs clang (scripts/install-deps --fuzz), builds the
#                 fuzz targets in build-fuzz/ (libFuzzer, ASan, UBSan) and runs
#                 each for FUZZ_SECONDS (default 60); FUZZ_TARGETS="a b" picks
#                 some; stops at the first finding (scripts/fuzz,
#                 docs/fuzzing.md). `make test` replays their seed corpora.

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-real release image bench chaos format clean fresh-check fuzz

all: build

deps:
	@./scripts/install-deps || { echo "make: the dependency step failed in scripts/install-deps (see above); stopping before the build" >&2; exit 1; }
	@./scripts/install-tools || { echo "make: the dependency step failed in scripts/install-tools (see above); stopping before the build" >&2; exit 1; }

build/CMakeCache.txt: | deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps build/CMakeCache.txt
	cmake --build build -j $(JOBS)

run: build
	@./scripts/run-local

build-asan/CMakeCache.txt: | deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DICSR_SANITIZE=ON $(CMAKE_FLAGS)

test: deps build-asan/CMakeCache.txt
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

# The Kubernetes-facing suites against a real kube-apiserver (kube-env or
# ISTIO_CSR_TEST_KUBECONFIG); CI runs it after `make test`.
test-real: deps build-asan/CMakeCache.txt
	@./scripts/install-deps --real || { echo "make: installing kube-env's programs failed in scripts/install-deps --real (see above)" >&2; exit 1; }
	cmake --build build-asan -j $(JOBS)
	@./scripts/test-real

build-release/CMakeCache.txt: | deps
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

release: deps build-release/CMakeCache.txt
	cmake --build build-release -j $(JOBS)

image: deps
	@./scripts/install-deps --image || { echo "make: installing the image tools failed in scripts/install-deps --image (see above)" >&2; exit 1; }
	@JOBS=$(JOBS) ./scripts/build-image

bench: release
	@./scripts/run-bench

chaos: release
	@./scripts/run-chaos

fresh-check:
	@./scripts/fresh-check

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

fuzz: deps
	@./scripts/install-deps --fuzz || { echo "make: installing clang for the fuzz targets failed in scripts/install-deps --fuzz (see above)" >&2; exit 1; }
	@FUZZ_SECONDS="$(FUZZ_SECONDS)" FUZZ_TARGETS="$(FUZZ_TARGETS)" JOBS="$(JOBS)" ./scripts/fuzz

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build build-asan build-release build-fuzz
