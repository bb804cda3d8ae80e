# sagemaker_rt_c: `make test` sets up everything it needs (Debian -dev packages, a .venv with
# the package and its test extras), builds the extension with -Werror, and runs pytest.

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PACKAGES := pkg-config libcurl4-openssl-dev libssl-dev openssl clang nginx-light
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: all test test-fast test-diff build deps system-deps demo bench test-asan lint clean fuzz operations

all: test

system-deps:
	@if ! pkg-config --exists libcurl openssl 2>/dev/null || ! command -v clang >/dev/null || \
		! command -v openssl >/dev/null; then \
		echo "Installing $(DEB_PACKAGES) (apt-get)"; \
		$(SUDO) apt-get install -y -q $(DEB_PACKAGES) >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q $(DEB_PACKAGES) >/dev/null; }; \
	fi

$(VENV)/.deps: pyproject.toml setup.py | system-deps
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	touch $@

deps: system-deps $(VENV)/.deps

build: deps
	@mkdir -p build
	@SMRT_WERROR=1 $(VPY) setup.py -q build_ext --inplace >build/build.log 2>&1 || { cat build/build.log; exit 1; }

test: build
	$(VENV)/bin/ruff check sagemaker_rt_c tests bench demo tools
	$(PYTEST) -q tests

# The suite less the tests marked slow (over about 1 s each, or many fresh interpreters):
# for quick iterations; `make test` still runs everything.
test-fast: build
	$(PYTEST) -q -m "not slow" tests

# Only the differential tests, boto3/botocore as the oracle (after a botocore bump, say).
test-diff: build
	$(PYTEST) -q -m differential tests

lint: deps
	$(VENV)/bin/ruff check sagemaker_rt_c tests bench demo tools

# Regenerate sagemaker_rt_c/_protocol/operations.py and csrc/operations.h from botocore's model (the
# pinned botocore in .venv; tests/core/test_operations_gen.py fails when they are out of date).
operations: deps
	$(VPY) tools/gen_operations.py

# The extension built with AddressSanitizer and UndefinedBehaviorSanitizer, in build-asan/,
# and the whole suite run against it (the interpreter itself is not instrumented).
test-asan: deps
	rm -rf build-asan && mkdir -p build-asan
	SMRT_SANITIZE=1 SMRT_WERROR=1 $(VPY) setup.py -q build_ext --build-lib build-asan --build-temp build-asan/tmp >/dev/null
	cd sagemaker_rt_c && cp --parents $$(find . -name '*.py' -o -name '*.gz') py.typed $(CURDIR)/build-asan/sagemaker_rt_c/
	PYTHONPATH=$(CURDIR)/build-asan SMRT_EXPECT_ASAN=1 \
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(PYTEST) -q -p no:randomly -m "not perf" tests  # timing and RSS mean nothing under ASan

demo: build
	$(VPY) -m sagemaker_rt_c demo

bench: build
	$(VPY) bench/run.py $(if $(FULL),,--quick) $(BENCH_ARGS)

clean:
	rm -rf build build-asan $(VENV) sagemaker_rt_c/_core*.so *.egg-info

# Fuzz the C parsers for FUZZ_SECONDS (default 300) with ASan and UBSan.
FUZZ_SECONDS ?= 300
fuzz: system-deps
	mkdir -p build/fuzz-corpus
	clang -g -O1 -DSMRT_DIRECT_LINK -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		$$(pkg-config --cflags openssl) fuzz/fuzz_parsers.c csrc/headers.c csrc/h1.c csrc/sigv4.c csrc/dyn.c csrc/eventstream.c \
		$$(pkg-config --libs openssl) -o build/fuzz_parsers
	build/fuzz_parsers -max_total_time=$(FUZZ_SECONDS) build/fuzz-corpus fuzz/corpus
