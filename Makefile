# attn-trace - a plain Makefile.
#
#   make          build build/attn-trace (installs missing build deps first)
#   make run      build and open the tracer on the built-in lesson
#   make check    build and run every test
#   make screens  rewrite the golden screens in tests/screens (review the diff)
#   make sanitize build with AddressSanitizer and UBSan in build-sanitize/ and run every test
#   make deps     install missing build dependencies (apt-get or Homebrew)
#   make clean    remove build/
#
# The public targets first make sure the dependencies are there (make deps),
# then run a sub-make, so pkg-config is asked only once they are installed.

BUILD   := build
BIN     := $(BUILD)/attn-trace
TESTBIN := $(BUILD)/run-tests

PKG_CONFIG ?= pkg-config
PKGS_APP   := ncursesw
PKGS_TEST  := check

WARNINGS := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wold-style-definition -Wformat=2 -Wundef \
            -Wpointer-arith -Wwrite-strings -Wvla -Wcast-align -Wswitch-enum \
            -Wmissing-declarations -Wredundant-decls
CSTD     := -std=c11 -D_POSIX_C_SOURCE=200809L -ffp-contract=off
OPT      ?= -O2 -g
CFLAGS   ?=
LDFLAGS  ?=

ALL_CFLAGS = $(CSTD) $(WARNINGS) $(OPT) -MMD -MP -Isrc $(CFLAGS)

SRC_LIB  := $(filter-out src/main.c,$(sort $(wildcard src/*.c)))
SRC_TEST := $(sort $(wildcard tests/check_*.c)) tests/run_tests.c tests/fixture.c
OBJ_LIB  := $(SRC_LIB:src/%.c=$(BUILD)/obj/%.o)
OBJ_MAIN := $(BUILD)/obj/main.o
OBJ_TEST := $(SRC_TEST:tests/%.c=$(BUILD)/obj/tests/%.o)

.PHONY: all run check deps clean build-bin build-tests run-tests print-deps screens sanitize

all: deps
	@$(MAKE) --no-print-directory build-bin

run: deps
	@$(MAKE) --no-print-directory build-bin
	./$(BIN)

check: deps
	@$(MAKE) --no-print-directory build-bin build-tests
	@$(MAKE) --no-print-directory run-tests

# ---------------------------------------------------------------------------
# Dependencies: what the build needs, and how to get it when it is missing.
# Debian/Ubuntu: apt-get (through sudo when not root). macOS: Homebrew.
DEB_PKGS  := build-essential pkg-config libncurses-dev check
BREW_PKGS := pkg-config ncurses check

deps:
	@missing=""; \
	command -v $(PKG_CONFIG) >/dev/null 2>&1 || missing="pkg-config"; \
	for p in $(PKGS_APP) $(PKGS_TEST); do \
	  $(PKG_CONFIG) --exists $$p 2>/dev/null || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "make deps: missing:$$missing"; \
	if command -v apt-get >/dev/null 2>&1; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	  echo "make deps: installing with apt-get: $(DEB_PKGS)"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $(DEB_PKGS) >/dev/null || \
	    { echo "make deps: apt-get failed; install $(DEB_PKGS) by hand" >&2; exit 1; }; \
	elif command -v brew >/dev/null 2>&1; then \
	  echo "make deps: installing with Homebrew: $(BREW_PKGS)"; \
	  brew install $(BREW_PKGS) || exit 1; \
	else \
	  echo "make deps: no apt-get or brew here; install pkg-config, ncursesw and check by hand" >&2; \
	  exit 1; \
	fi; \
	echo "make deps: done"

print-deps:
	@echo "Debian/Ubuntu: $(DEB_PKGS)"; echo "Homebrew: $(BREW_PKGS)"

# ---------------------------------------------------------------------------
# The real build (run through the targets above).
CFLAGS_APP  = $(shell $(PKG_CONFIG) --cflags $(PKGS_APP))
LIBS_APP    = $(shell $(PKG_CONFIG) --libs $(PKGS_APP)) -lm
CFLAGS_TEST = $(shell $(PKG_CONFIG) --cflags $(PKGS_TEST))
LIBS_TEST   = $(shell $(PKG_CONFIG) --libs $(PKGS_TEST)) -lm

build-bin: $(BIN)
build-tests: $(TESTBIN)

$(BIN): $(OBJ_LIB) $(OBJ_MAIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_APP)

$(TESTBIN): $(OBJ_LIB) $(OBJ_TEST)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_TEST) $(LIBS_APP)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CFLAGS_APP) -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CFLAGS_TEST) -Itests -c -o $@ $<

# The end-to-end terminal tests need tmux; without it they say so and exit
# 77 (skipped), which fails the run under CI (CI=true), where .ci/run
# installs tmux.
run-tests: $(TESTBIN) $(BIN)
	./$(TESTBIN)
	./tests/cli_test.sh ./$(BIN)
	@status=0; ./tests/tui_test.sh ./$(BIN) || status=$$?; \
	if [ $$status -eq 77 ] && [ -z "$$CI" ]; then exit 0; fi; exit $$status

screens: deps
	@$(MAKE) --no-print-directory build-tests
	ATTN_UPDATE_SCREENS=1 CK_RUN_SUITE=view ./$(TESTBIN)

SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build-sanitize OPT="-O1 -g $(SANITIZE_FLAGS)" \
	  LDFLAGS="$(SANITIZE_FLAGS)" build-bin build-tests
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(MAKE) --no-print-directory BUILD=build-sanitize run-tests

clean:
	rm -rf $(BUILD) build-sanitize

-include $(OBJ_LIB:.o=.d) $(OBJ_MAIN:.o=.d) $(OBJ_TEST:.o=.d)
