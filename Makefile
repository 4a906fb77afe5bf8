# attn-trace - a plain Makefile.
#
#   make          build build/attn-trace (installs missing build deps first)
#   make run      build and open the tracer on the built-in lesson
#   make check    build and run every test
#   make screens  rewrite the golden screens in tests/screens (review the diff)
#   make sanitize build with AddressSanitizer and UBSan in build-sanitize/ and run every test
#   make valgrind run the unit tests and the program under valgrind (zero errors, nothing lost)
#   make bench    time the trace and the frames at GPT-2's size against PyTorch
#                 (docs/performance.md; BENCH_UPDATE=docs/performance.md rewrites its table)
#   make deps     install missing build dependencies (apt-get or Homebrew)
#   make clean    remove build/
#   make install / uninstall / dist / distcheck / guide / lint-man: see
#                 "Installing, the source tarball, the manual and the guide" below
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

PREFIX   ?= /usr/local
LESSON_DIR ?= $(PREFIX)/share/attn-trace/lessons

# The layers, bottom first: each is a folder of src/, and a file in one may
# include only its own folder's headers and those of the layers named for
# it below (INC_<layer>), so an upward include does not compile. See
# docs/architecture.md.
LAYERS     := base math format trace lesson output ui tui cli
INC_base   := base
INC_math   := math base
INC_format := format base
INC_trace  := trace format math base
INC_lesson := lesson trace format math base
INC_output := output lesson trace format math base
INC_ui     := ui lesson trace format math base
INC_tui    := tui ui lesson trace format math base
INC_cli    := cli tui ui output lesson trace format math base
# the include flags of the layer a path under src/ (or build/obj/) is in
layer_of    = $(firstword $(subst /, ,$(1)))
layer_inc   = $(addprefix -Isrc/,$(INC_$(call layer_of,$(1))))
INC_ALL    := $(addprefix -Isrc/,$(LAYERS))

ALL_CFLAGS = $(CSTD) $(WARNINGS) $(OPT) -pthread -MMD -MP -DLESSON_DIR='"$(LESSON_DIR)"' $(CFLAGS)

SRC_LIB  := $(filter-out src/cli/main.c,$(sort $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))))
SRC_TEST := $(sort $(wildcard tests/check_*.c)) tests/run_tests.c tests/fixture.c
OBJ_LIB  := $(SRC_LIB:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/lesson/builtin_lesson.o
OBJ_MAIN := $(BUILD)/obj/cli/main.o
OBJ_TEST := $(SRC_TEST:tests/%.c=$(BUILD)/obj/tests/%.o)

.PHONY: all run check bench deps clean build-bin build-tests run-tests print-deps screens sanitize valgrind
.PHONY: install uninstall dist distcheck guide lint-man

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
LIBS_APP    = $(shell $(PKG_CONFIG) --libs $(PKGS_APP)) -lm -pthread
CFLAGS_TEST = $(shell $(PKG_CONFIG) --cflags $(PKGS_TEST))
LIBS_TEST   = $(shell $(PKG_CONFIG) --libs $(PKGS_TEST)) -lm

PROGRESS_WRITER := $(BUILD)/progress-writer

build-bin: $(BIN)
build-tests: $(TESTBIN) $(PROGRESS_WRITER)

$(BIN): $(OBJ_LIB) $(OBJ_MAIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_APP)

$(TESTBIN): $(OBJ_LIB) $(OBJ_TEST)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_TEST) $(LIBS_APP)

# The default lesson, compiled in: lessons/article.lesson as a byte array.
$(BUILD)/gen/builtin_lesson.c: lessons/article.lesson
	@mkdir -p $(dir $@)
	@{ echo '/* Generated by the Makefile from lessons/article.lesson: do not edit. */'; \
	  echo '#include "builtin.h"'; \
	  echo 'const char BUILTIN_LESSON_NAME[] = "lessons/article.lesson";'; \
	  echo 'const unsigned char BUILTIN_LESSON[] = {'; \
	  od -An -v -tx1 $< | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00};'; \
	  echo 'const size_t BUILTIN_LESSON_SIZE = sizeof BUILTIN_LESSON - 1;'; } > $@

$(BUILD)/obj/lesson/builtin_lesson.o: $(BUILD)/gen/builtin_lesson.c src/lesson/builtin.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc/lesson -c -o $@ $<

# A helper for tests/progress_kill_test.sh: saves progress in a loop to be
# killed mid-write.
$(PROGRESS_WRITER): $(BUILD)/obj/tests/progress_writer.o $(BUILD)/obj/lesson/progress.o $(BUILD)/obj/base/error.o \
                    $(BUILD)/obj/base/strbuf.o $(BUILD)/obj/base/utf8.o
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CFLAGS_TEST) -Itests $(INC_ALL) -c -o $@ $<

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(call layer_inc,$*) $(CFLAGS_APP) -c -o $@ $<

# The end-to-end terminal tests need tmux (and dash, for the signal table
# of tests/reliability_tui_test.sh), and the SVG checks xmllint;
# without it they say so and exit 77 (skipped), which fails the run under
# CI (CI=true), where .ci/run installs tmux and libxml2-utils.
run-tests: $(TESTBIN) $(BIN) $(PROGRESS_WRITER)
	./$(TESTBIN)
	./tests/cli_test.sh ./$(BIN)
	./tests/npy_test.sh ./$(BIN)
	./tests/progress_kill_test.sh ./$(PROGRESS_WRITER)
	./tests/bad_input_test.sh ./$(BIN)
	./tests/reliability_test.sh ./$(BIN)
	./tests/install_test.sh
	./tests/docs_test.sh ./$(BIN)
	./tests/completion_test.sh ./$(BIN)
	@$(MAKE) --no-print-directory lint-man
	@status=0; ./tests/svg_test.sh ./$(BIN) || status=$$?; \
	if [ $$status -eq 77 ] && [ -z "$$CI" ]; then exit 0; fi; exit $$status
	@status=0; ./tests/tui_test.sh ./$(BIN) || status=$$?; \
	if [ $$status -eq 77 ] && [ -z "$$CI" ]; then exit 0; fi; exit $$status
	@status=0; ./tests/reliability_tui_test.sh ./$(BIN) || status=$$?; \
	if [ $$status -eq 77 ] && [ -z "$$CI" ]; then exit 0; fi; exit $$status
	@for h in $(FUZZ_HARNESSES); do ./$(BUILD)/fuzz-replay-$$h tests/fuzz/corpus/$$h || exit 1; done

screens: deps
	@$(MAKE) --no-print-directory build-tests
	ATTN_UPDATE_SCREENS=1 CK_RUN_SUITE=view ./$(TESTBIN)

SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build-sanitize OPT="-O1 -g $(SANITIZE_FLAGS)" \
	  LDFLAGS="$(SANITIZE_FLAGS)" build-bin build-tests
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ATTN_SANITIZED=1 \
	  $(MAKE) --no-print-directory BUILD=build-sanitize run-tests

VALGRIND := valgrind --quiet --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite

valgrind: deps
	@$(MAKE) --no-print-directory build-bin build-tests
	CK_FORK=no $(VALGRIND) ./$(TESTBIN)
	$(VALGRIND) ./$(BIN) --print >/dev/null
	$(VALGRIND) ./$(BIN) --json --causal --focus 3 >/dev/null
	$(VALGRIND) ./$(BIN) --dump-screen /dev/null --keys 'jj<Enter><Esc> ?<Esc>s<Down><Enter>'
	$(VALGRIND) ./$(BIN) --check lessons/*.lesson >/dev/null
	$(VALGRIND) ./$(BIN) --svg - --causal >/dev/null
	$(VALGRIND) ./$(BIN) --svg - --d-model 64 --sentence "$$(seq -s ' ' 1 80)" >/dev/null
	@echo "valgrind: no errors, nothing definitely lost"

# The performance table (tests/bench.sh): attn-trace against PyTorch's
# article code when /usr/bin/python3 can import torch.
bench: deps
	@$(MAKE) --no-print-directory build-bin
	./tests/bench.sh ./$(BIN)

clean:
	rm -rf $(BUILD) build-sanitize

-include $(OBJ_LIB:.o=.d) $(OBJ_MAIN:.o=.d) $(OBJ_TEST:.o=.d) $(BUILD)/obj/tests/progress_writer.d

# ---------------------------------------------------------------------------
# Installing, the source tarball, the manual and the guide.
#
#   make install    the program, its manual, lessons, docs and bash completion
#                   under $(DESTDIR)$(PREFIX) (PREFIX default /usr/local,
#                   DESTDIR default empty; see the paths below)
#   make uninstall  removes exactly the files install put there, and the
#                   share/attn-trace and share/doc/attn-trace directories when
#                   that leaves them empty (bin/, man1/ and so on stay)
#   make dist       attn-trace-VERSION.tar.gz: the files git tracks (git
#                   ls-files), unpacking into attn-trace-VERSION/
#   make distcheck  make dist, then unpack it in a temporary directory, run
#                   make check there and remove it (slow: CI runs it, make
#                   check does not)
#   make guide      rewrite the screen dumps in docs/guide.md and README.md
#                   from the current program (make check fails when they differ)
#   make lint-man   mandoc -T lint on the manual, docs/attn-trace.1 (make check
#                   runs it; skipped without mandoc, except under CI)
#
# The program finds installed lessons in LESSON_DIR, which is compiled in from
# PREFIX. The build remembers the LESSON_DIR it compiled ($(BUILD)/lesson-dir),
# so `make install PREFIX=/opt` after a plain `make` recompiles src/lesson/catalog.c
# and relinks before installing. DESTDIR is never compiled in: it stages the
# files for a package, which puts them under PREFIX later.
INSTALL     ?= install
DESTDIR     ?=
BINDIR       = $(PREFIX)/bin
MAN1DIR      = $(PREFIX)/share/man/man1
DOCDIR       = $(PREFIX)/share/doc/attn-trace
BASHCOMPDIR  = $(PREFIX)/share/bash-completion/completions
LESSON_FILES := $(sort $(wildcard lessons/*.lesson))
DOC_FILES    := README.md $(sort $(wildcard docs/*.md))
MANPAGE      := docs/attn-trace.1
COMPLETION   := src/cli/attn-trace.bash-completion
VERSION      := $(shell sed -n 's/^\#define PROGRAM_VERSION "\(.*\)"$$/\1/p' src/cli/cli.h)
DIST_NAME    := attn-trace-$(VERSION)

.PHONY: install-files FORCE

# Rewritten only when LESSON_DIR changes, so catalog.o is rebuilt only then.
$(BUILD)/lesson-dir: FORCE
	@mkdir -p $(dir $@)
	@if [ "$$(cat $@ 2>/dev/null)" != '$(LESSON_DIR)' ]; then printf '%s\n' '$(LESSON_DIR)' >$@; fi
$(BUILD)/obj/lesson/catalog.o: $(BUILD)/lesson-dir
FORCE:

install: deps
	@$(MAKE) --no-print-directory build-bin
	@$(MAKE) --no-print-directory install-files

install-files: $(BIN)
	$(INSTALL) -d -m 755 "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MAN1DIR)" "$(DESTDIR)$(LESSON_DIR)" \
	  "$(DESTDIR)$(DOCDIR)" "$(DESTDIR)$(BASHCOMPDIR)"
	$(INSTALL) -m 755 $(BIN) "$(DESTDIR)$(BINDIR)/attn-trace"
	$(INSTALL) -m 644 $(MANPAGE) "$(DESTDIR)$(MAN1DIR)/attn-trace.1"
	$(INSTALL) -m 644 $(LESSON_FILES) "$(DESTDIR)$(LESSON_DIR)/"
	$(INSTALL) -m 644 $(DOC_FILES) "$(DESTDIR)$(DOCDIR)/"
	$(INSTALL) -m 644 $(COMPLETION) "$(DESTDIR)$(BASHCOMPDIR)/attn-trace"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/attn-trace" "$(DESTDIR)$(MAN1DIR)/attn-trace.1" \
	  "$(DESTDIR)$(BASHCOMPDIR)/attn-trace"
	@for f in $(notdir $(LESSON_FILES)); do echo "rm -f \"$(DESTDIR)$(LESSON_DIR)/$$f\""; \
	  rm -f "$(DESTDIR)$(LESSON_DIR)/$$f"; done
	@for f in $(notdir $(DOC_FILES)); do echo "rm -f \"$(DESTDIR)$(DOCDIR)/$$f\""; \
	  rm -f "$(DESTDIR)$(DOCDIR)/$$f"; done
	@for d in "$(DESTDIR)$(LESSON_DIR)" "$(DESTDIR)$(PREFIX)/share/attn-trace" "$(DESTDIR)$(DOCDIR)"; do \
	  if [ -d "$$d" ] && rmdir "$$d" 2>/dev/null; then echo "rmdir \"$$d\""; fi; done

dist:
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
	  { echo "make dist: needs git and a git checkout (it packs what git ls-files lists)" >&2; exit 1; }
	@[ -n "$(VERSION)" ] || { echo "make dist: no PROGRAM_VERSION in src/cli/cli.h" >&2; exit 1; }
	rm -rf $(BUILD)/dist $(DIST_NAME).tar.gz
	mkdir -p $(BUILD)/dist/$(DIST_NAME)
	git ls-files -z | tar --null -T - -cf - | tar -xf - -C $(BUILD)/dist/$(DIST_NAME)
	tar -C $(BUILD)/dist -cf - $(DIST_NAME) | gzip -9 >$(DIST_NAME).tar.gz
	rm -rf $(BUILD)/dist
	@echo "make dist: $(DIST_NAME).tar.gz ($$(git ls-files | wc -l | tr -d ' ') files)"

distcheck: dist
	@tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/attn-trace-distcheck.XXXXXX") || exit 1; \
	trap 'rm -rf "$$tmp"' EXIT; \
	echo "distcheck: unpacking $(DIST_NAME).tar.gz in $$tmp"; \
	gzip -dc $(DIST_NAME).tar.gz | tar -xf - -C "$$tmp" || exit 1; \
	[ "$$(ls "$$tmp")" = "$(DIST_NAME)" ] || { echo "distcheck: the tarball does not unpack into $(DIST_NAME)/ alone" >&2; exit 1; }; \
	$(MAKE) --no-print-directory -C "$$tmp/$(DIST_NAME)" check || { echo "distcheck: make check failed in the unpacked tarball" >&2; exit 1; }; \
	echo "distcheck: $(DIST_NAME).tar.gz builds and passes make check"

guide: deps
	@$(MAKE) --no-print-directory build-bin
	./tests/docs_test.sh --update ./$(BIN)

lint-man:
	@if command -v mandoc >/dev/null 2>&1; then \
	  mandoc -T lint -W warning $(MANPAGE) && echo "lint-man: $(MANPAGE) is clean"; \
	elif [ -n "$$CI" ]; then \
	  echo "lint-man: mandoc is not installed (.ci/run installs it)" >&2; exit 1; \
	else \
	  echo "lint-man: skipped: mandoc is not installed (Debian: apt-get install mandoc)"; \
	fi

# --- fuzzing (tests/fuzz) ---
# libFuzzer harnesses (tests/fuzz/fuzz_*.c): the lesson parser, einsum, the
# command line, key sequences against the tracer's composer, and the file
# readers (JSON, safetensors, .npy, the progress file).
#
#   make fuzz        build them with clang (libFuzzer, ASan, UBSan) into
#                    build-fuzz/ and run each for FUZZ_SECONDS (default 60) on
#                    tests/fuzz/corpus/<harness>; new inputs go to
#                    build-fuzz/new/<harness>, crashes to build-fuzz/crashes/<harness>,
#                    the fuzzer's output to build-fuzz/logs/<harness>.log
#   make fuzz-build  only build them (FUZZ_CC, default clang; Debian needs
#                    clang and libclang-rt-14-dev for libFuzzer)
#   make check       replays every committed corpus through
#                    $(BUILD)/fuzz-replay-<harness> (tests/fuzz/replay_main.c,
#                    built with $(CC): no clang needed); sanitized under make sanitize
#
# To keep an input found by a run, minimize into a fresh directory first:
#   build-fuzz/fuzz_lesson -merge=1 NEW_DIR tests/fuzz/corpus/lesson build-fuzz/new/lesson
FUZZ_HARNESSES := lesson einsum cli keys json safetensors npy progress
FUZZ_SECONDS   ?= 60
FUZZ_CC        ?= clang
FUZZ_BUILD     := build-fuzz
FUZZ_OPTIONS   ?=
FUZZ_SANITIZE  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS     = $(CSTD) $(filter-out -Werror -Wformat=2,$(WARNINGS)) -Wformat -g -O1 $(FUZZ_SANITIZE) \
                  -MMD -MP $(INC_ALL) -Itests/fuzz -DLESSON_DIR='"$(LESSON_DIR)"' $(CFLAGS_APP)
FUZZ_LIB_OBJ   := $(patsubst src/%.c,$(FUZZ_BUILD)/obj/%.o,$(filter-out src/tui/tui.c,$(SRC_LIB))) \
                  $(FUZZ_BUILD)/obj/lesson/builtin_lesson.o
FUZZ_BINS      := $(FUZZ_HARNESSES:%=$(FUZZ_BUILD)/fuzz_%)
# Comparison tracing guides the fuzzer through parsers; in the numeric and
# drawing code it only costs time (the keys harness ran 4x slower with it).
FUZZ_NO_CMP    := ui/compose ui/frame base/strbuf trace/explain base/numfmt output/print math/tensor \
                  math/torchmath math/rng trace/trace ui/view
FUZZ_COV       :=
$(FUZZ_NO_CMP:%=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/fuzz/fuzz_keys.o: FUZZ_COV := -fno-sanitize-coverage=trace-cmp
# per harness: the longest input worth trying
FUZZ_MAX_LEN_lesson := 16384
FUZZ_MAX_LEN_einsum := 256
FUZZ_MAX_LEN_cli    := 1024
FUZZ_MAX_LEN_keys   := 1024
FUZZ_MAX_LEN_json   := 4096
FUZZ_MAX_LEN_npy    := 4096
FUZZ_MAX_LEN_progress := 1024

# The replay builds: the library's objects (without tui.c, so no curses),
# each harness and the shared main, with the project's flags.
FUZZ_REPLAY_LIB  := $(filter-out $(BUILD)/obj/tui/tui.o,$(OBJ_LIB))
FUZZ_REPLAY_BINS := $(FUZZ_HARNESSES:%=$(BUILD)/fuzz-replay-%)
FUZZ_REPLAY_OBJ  := $(FUZZ_HARNESSES:%=$(BUILD)/obj/tests/fuzz/fuzz_%.o) $(BUILD)/obj/tests/fuzz/replay_main.o

.PHONY: fuzz fuzz-build fuzz-replay fuzz-clean
# the harnesses' objects are made by a chain of pattern rules: keep them
.SECONDARY: $(FUZZ_REPLAY_OBJ) $(FUZZ_HARNESSES:%=$(FUZZ_BUILD)/obj/fuzz/fuzz_%.o) $(FUZZ_LIB_OBJ)

build-tests: $(FUZZ_REPLAY_BINS)
run-tests: $(FUZZ_REPLAY_BINS)
fuzz-replay: $(FUZZ_REPLAY_BINS)

$(BUILD)/fuzz-replay-%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/fuzz/replay_main.o $(FUZZ_REPLAY_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ -lm -pthread

fuzz-build: deps
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || \
	  { echo "make fuzz: $(FUZZ_CC) not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

fuzz: fuzz-build
	@status=0; for h in $(FUZZ_HARNESSES); do \
	  mkdir -p $(FUZZ_BUILD)/new/$$h $(FUZZ_BUILD)/crashes/$$h $(FUZZ_BUILD)/logs; \
	  dict=""; [ -f tests/fuzz/$$h.dict ] && dict="-dict=tests/fuzz/$$h.dict"; \
	  case $$h in lesson) max=$(FUZZ_MAX_LEN_lesson);; einsum) max=$(FUZZ_MAX_LEN_einsum);; \
	    cli) max=$(FUZZ_MAX_LEN_cli);; json) max=$(FUZZ_MAX_LEN_json);; npy) max=$(FUZZ_MAX_LEN_npy);; \
	    progress) max=$(FUZZ_MAX_LEN_progress);; *) max=$(FUZZ_MAX_LEN_keys);; esac; \
	  echo "fuzz $$h: $(FUZZ_SECONDS) s (log: $(FUZZ_BUILD)/logs/$$h.log)"; \
	  if ./$(FUZZ_BUILD)/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -max_len=$$max -timeout=10 \
	       -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crashes/$$h/ $$dict $(FUZZ_OPTIONS) \
	       $(FUZZ_BUILD)/new/$$h tests/fuzz/corpus/$$h >$(FUZZ_BUILD)/logs/$$h.log 2>&1; then \
	    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' $(FUZZ_BUILD)/logs/$$h.log | sed 's/^/  /'; \
	    grep -E 'DONE' $(FUZZ_BUILD)/logs/$$h.log | tail -1 | sed 's/^/  /'; \
	  else \
	    status=1; echo "fuzz $$h: FOUND A PROBLEM (inputs in $(FUZZ_BUILD)/crashes/$$h/):"; \
	    grep -E -A12 '^==[0-9]+==ERROR|runtime error|invariant failed|^==[0-9]+== ERROR' $(FUZZ_BUILD)/logs/$$h.log | head -40; \
	  fi; \
	done; exit $$status

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/fuzz/fuzz_%.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_SANITIZE) -fsanitize=fuzzer -o $@ $^ -lm -pthread

$(FUZZ_BUILD)/obj/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_COV) -c -o $@ $<

$(FUZZ_BUILD)/obj/lesson/builtin_lesson.o: $(BUILD)/gen/builtin_lesson.c src/lesson/builtin.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_COV) -c -o $@ $<

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

-include $(FUZZ_REPLAY_OBJ:.o=.d) $(wildcard $(FUZZ_BUILD)/obj/*/*.d $(FUZZ_BUILD)/obj/fuzz/*.d)
# --- end of fuzzing ---
