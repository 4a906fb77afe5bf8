# attn-trace - a plain Makefile.
#
#   make          build build/attn-trace (installs missing build deps first)
#   make run      build and open the tracer on the built-in lesson
#   make check    build and run every test, in parallel (one job per core;
#                 `make -jN check` picks another count); each test's output
#                 goes to build/test-logs/NAME.log and a summary follows.
#                 V=1 prints every log in full
#   make screens  rewrite the golden screens in tests/screens (review the diff)
#   make sanitize build with AddressSanitizer and UBSan in build-sanitize/ and run every test
#   make valgrind run the unit tests and the program under valgrind (zero errors, nothing lost)
#   make bench    time the trace and the frames at GPT-2's size against PyTorch
#                 (docs/performance.md; BENCH_UPDATE=docs/performance.md rewrites its table)
#   make deps     install missing build dependencies (apt-get or Homebrew)
#   make clean    remove build/
#   make format   rewrite src/ and tests/ with clang-format (.clang-format)
#   make format-check  list the files clang-format would change (fails if any)
#   make print-layers  the layers and each one's include folders
#   make install / uninstall / dist / distcheck / guide / lint-man: see
#                 "Installing, the source tarball, the manual and the guide" below
#
# The public targets first make sure the dependencies are there (make deps),
# then run a sub-make, so pkg-config is asked only once they are installed.
# That sub-make runs $(JOBS) jobs at once (one per core) unless the user
# chose a count with -j (make -j1 check is the serial build).

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

# -j$(JOBS) for the public targets' sub-makes, unless make was given -j
# (checked when the recipe runs: MAKEFLAGS holds -jN only then)
JOBS     ?= $(shell nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
PAR       = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(JOBS))

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
.PHONY: install uninstall dist distcheck guide lint-man print-layers format format-check

all: deps
	@$(MAKE) --no-print-directory $(PAR) build-bin

run: deps
	@$(MAKE) --no-print-directory $(PAR) build-bin
	./$(BIN)

check: deps
	@$(MAKE) --no-print-directory $(PAR) build-bin build-tests run-tests

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

# print-layers: one line per layer, bottom first, "LAYER: FOLDERS..." (its
# include folders under src/), then "cflags: ..." (what every file is
# compiled with besides -I); tests/layers_test.sh reads it.
print-layers:
	@$(foreach l,$(LAYERS),echo '$(l): $(INC_$(l))';) echo 'cflags: $(CSTD)'

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

# The tests make check runs. Each is a target test-NAME that runs one test
# program with its output in $(TEST_LOGS)/NAME.log and "STATUS SECONDS" in
# NAME.status, and never fails itself, so that make -j runs them side by
# side and every one runs; run-tests then prints one line per test, in the
# order of TESTS (the longest first, so they start first), the failing
# lines of each failed test (V=1: every log in full), and fails when one
# failed. Adding a test: a name in TESTS, TEST_CMD_<name>, and what it
# needs in TEST_NEEDS_<name>.
#
# The end-to-end terminal tests need tmux (and dash, for the signal table
# of tests/reliability_tui_test.sh), and the SVG checks xmllint;
# without it they say so and exit 77 (skipped), which fails the run under
# CI (CI=true), where .ci/run installs tmux and libxml2-utils. The exported
# PyTorch scripts (tests/verify_test.sh) need /usr/bin/python3 with torch
# and skip the same way (.ci/run installs python3-torch).
TESTS     := bad-input unit tui reliability-tui install verify cli npy reliability progress-kill layers docs \
             completion svg lint-man fuzz-replay line-mode format-check
TEST_LOGS  = $(BUILD)/test-logs
TESTS_MAY_SKIP := svg tui reliability-tui verify

# The unit tests run one Check suite per process (tests/unit_test.sh),
# with their durations in $(TEST_LOGS)/unit/SUITE.xml. A test case without
# a timeout of its own gets CK_TIMEOUT seconds (Check's default of 4 s was
# too close: the slowest such case took 4.9 s on the loaded 2-core machine,
# 9.3 s sanitized); under make sanitize every timeout is doubled
# (CK_TIMEOUT_MULTIPLIER). make valgrind runs them unforked: no timeouts.
CK_TIMEOUT := 60

# The install test builds a second copy for its PREFIX from a copy of this
# build's objects (only catalog.c, which holds LESSON_DIR, is recompiled),
# with the same compiler and flags.
TEST_CMD_unit          = CK_DEFAULT_TIMEOUT=$${CK_DEFAULT_TIMEOUT:-$(CK_TIMEOUT)} ATTN_UNIT_XML=$(TEST_LOGS)/unit \
                         ./tests/unit_test.sh ./$(TESTBIN)
TEST_CMD_cli           = ./tests/cli_test.sh ./$(BIN)
TEST_CMD_npy           = ./tests/npy_test.sh ./$(BIN)
TEST_CMD_verify        = ./tests/verify_test.sh ./$(BIN)
TEST_CMD_line-mode     = ./tests/line_mode_test.sh ./$(BIN)
TEST_CMD_progress-kill = ./tests/progress_kill_test.sh ./$(PROGRESS_WRITER)
TEST_CMD_bad-input     = ./tests/bad_input_test.sh ./$(BIN)
TEST_CMD_install       = ATTN_INSTALL_SEED='$(BUILD)' ATTN_INSTALL_CC='$(CC)' ATTN_INSTALL_OPT='$(OPT)' \
                         ATTN_INSTALL_CFLAGS='$(CFLAGS)' ATTN_INSTALL_LDFLAGS='$(LDFLAGS)' ./tests/install_test.sh
TEST_CMD_layers        = CC='$(CC)' ./tests/layers_test.sh
TEST_CMD_docs          = ./tests/docs_test.sh ./$(BIN)
TEST_CMD_completion    = ./tests/completion_test.sh ./$(BIN)
TEST_CMD_lint-man      = $(MAKE) --no-print-directory lint-man
TEST_CMD_svg           = ./tests/svg_test.sh ./$(BIN)
TEST_CMD_tui           = ./tests/tui_test.sh ./$(BIN)
TEST_CMD_reliability-tui = ./tests/reliability_tui_test.sh ./$(BIN)
TEST_CMD_reliability   = ./tests/reliability_test.sh ./$(BIN)
TEST_CMD_format-check  = $(MAKE) --no-print-directory format-check
TEST_CMD_fuzz-replay   = for h in $(FUZZ_HARNESSES); do \
                           ./$(BUILD)/fuzz-replay-$$h tests/fuzz/corpus/$$h || exit 1; done

TEST_NEEDS_unit          = $(TESTBIN)
TEST_NEEDS_progress-kill = $(PROGRESS_WRITER)
TEST_NEEDS_install       = $(BIN) $(OBJ_LIB) $(OBJ_MAIN)
TEST_NEEDS_layers        =
TEST_NEEDS_lint-man      =
TEST_NEEDS_format-check  =
TEST_NEEDS_fuzz-replay   = $(FUZZ_REPLAY_BINS)
TEST_NEEDS_DEFAULT       = $(BIN)
test_needs = $(if $(filter undefined,$(origin TEST_NEEDS_$(1))),$(TEST_NEEDS_DEFAULT),$(TEST_NEEDS_$(1)))

.PHONY: $(TESTS:%=test-%)
.SECONDEXPANSION:
$(TESTS:%=test-%): test-%: $$(call test_needs,$$*)
	@mkdir -p $(TEST_LOGS)
	@rm -f $(TEST_LOGS)/$*.status
	@start=$$(date +%s); status=0; \
	( $(TEST_CMD_$*) ) </dev/null >$(TEST_LOGS)/$*.log 2>&1 || status=$$?; \
	secs=$$(($$(date +%s) - start)); echo "$$status $$secs" >$(TEST_LOGS)/$*.status; \
	echo "  finished $* ($$secs s, status $$status)"

run-tests: $(TESTS:%=test-%)
	@echo "make check: $(words $(TESTS)) tests (logs in $(TEST_LOGS)/):"; \
	bad=""; for t in $(TESTS); do \
	  log=$(TEST_LOGS)/$$t.log; status=2; secs=?; \
	  [ -f $(TEST_LOGS)/$$t.status ] && read status secs <$(TEST_LOGS)/$$t.status; \
	  if [ "$$status" -eq 0 ]; then verdict=PASS; \
	  elif [ "$$status" -eq 77 ] && [ -z "$$CI" ] && \
	       case " $(TESTS_MAY_SKIP) " in *" $$t "*) true;; *) false;; esac; then verdict=SKIP; \
	  else verdict=FAIL; bad="$$bad $$t"; fi; \
	  if [ -n "$(V)" ]; then echo "--- $$t:"; cat "$$log"; fi; \
	  printf '%s %-14s %4s s  %s\n' $$verdict $$t "$$secs" "$$(tail -n 1 "$$log" 2>/dev/null)"; \
	  if [ $$verdict = FAIL ] && [ -z "$(V)" ]; then \
	    if grep -q '^not ok ' "$$log"; then \
	      sed -n '/^not ok /,/^ok /{/^ok /d;p;}' "$$log" | head -n 60 | sed 's/^/    /'; \
	    else tail -n 30 "$$log" | sed 's/^/    /'; fi; \
	    echo "    (status $$status; the whole log: $$log)"; \
	  fi; \
	done; \
	failed=$$(echo $$bad | wc -w); \
	echo "check: $$(($(words $(TESTS)) - failed)) passed, $$failed failed"; \
	if [ -n "$$bad" ]; then echo "make check: FAILED:$$bad"; exit 1; fi; \
	echo "make check: every test passed"

screens: deps
	@$(MAKE) --no-print-directory $(PAR) build-tests
	ATTN_UPDATE_SCREENS=1 CK_RUN_SUITE=view ./$(TESTBIN)
	ATTN_UPDATE_SCREENS=1 CK_RUN_SUITE=headsview ./$(TESTBIN)
	ATTN_UPDATE_SCREENS=1 CK_RUN_SUITE=model_trace ./$(TESTBIN)
	ATTN_UPDATE_SCREENS=1 CK_RUN_SUITE=diffview ./$(TESTBIN)
	ATTN_UPDATE_SCREENS=1 CK_RUN_SUITE=lessonmodel ./$(TESTBIN)

SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

sanitize: deps
	@$(MAKE) --no-print-directory $(PAR) BUILD=build-sanitize OPT="-O1 -g $(SANITIZE_FLAGS)" \
	  LDFLAGS="$(SANITIZE_FLAGS)" build-bin build-tests
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ATTN_SANITIZED=1 CK_TIMEOUT_MULTIPLIER=2 \
	  $(MAKE) --no-print-directory $(PAR) BUILD=build-sanitize OPT="-O1 -g $(SANITIZE_FLAGS)" \
	  LDFLAGS="$(SANITIZE_FLAGS)" run-tests

VALGRIND := valgrind --quiet --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite

valgrind: deps
	@$(MAKE) --no-print-directory $(PAR) build-bin build-tests
	CK_FORK=no ATTN_UNIT_WRAPPER="$(VALGRIND)" ./tests/unit_test.sh ./$(TESTBIN)
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
	@$(MAKE) --no-print-directory $(PAR) build-bin
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
# the models shipped beside the lessons (--model NAME finds LESSON_DIR/models/NAME)
MODEL_NAMES := $(notdir $(wildcard lessons/models/*))
MODEL_FILES := README.md config.json model.safetensors vocab.json merges.txt
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
	@$(MAKE) --no-print-directory $(PAR) build-bin
	@$(MAKE) --no-print-directory install-files

install-files: $(BIN)
	$(INSTALL) -d -m 755 "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MAN1DIR)" "$(DESTDIR)$(LESSON_DIR)" \
	  "$(DESTDIR)$(DOCDIR)" "$(DESTDIR)$(BASHCOMPDIR)"
	$(INSTALL) -m 755 $(BIN) "$(DESTDIR)$(BINDIR)/attn-trace"
	$(INSTALL) -m 644 $(MANPAGE) "$(DESTDIR)$(MAN1DIR)/attn-trace.1"
	$(INSTALL) -m 644 $(LESSON_FILES) "$(DESTDIR)$(LESSON_DIR)/"
	@for m in $(MODEL_NAMES); do \
	  echo "$(INSTALL) -d -m 755 \"$(DESTDIR)$(LESSON_DIR)/models/$$m\""; \
	  $(INSTALL) -d -m 755 "$(DESTDIR)$(LESSON_DIR)/models/$$m" || exit 1; \
	  for f in $(MODEL_FILES); do $(INSTALL) -m 644 "lessons/models/$$m/$$f" "$(DESTDIR)$(LESSON_DIR)/models/$$m/" || exit 1; done; \
	done
	$(INSTALL) -m 644 $(DOC_FILES) "$(DESTDIR)$(DOCDIR)/"
	$(INSTALL) -m 644 $(COMPLETION) "$(DESTDIR)$(BASHCOMPDIR)/attn-trace"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/attn-trace" "$(DESTDIR)$(MAN1DIR)/attn-trace.1" \
	  "$(DESTDIR)$(BASHCOMPDIR)/attn-trace"
	@for f in $(notdir $(LESSON_FILES)); do echo "rm -f \"$(DESTDIR)$(LESSON_DIR)/$$f\""; \
	  rm -f "$(DESTDIR)$(LESSON_DIR)/$$f"; done
	@for f in $(notdir $(DOC_FILES)); do echo "rm -f \"$(DESTDIR)$(DOCDIR)/$$f\""; \
	  rm -f "$(DESTDIR)$(DOCDIR)/$$f"; done
	@for m in $(MODEL_NAMES); do for f in $(MODEL_FILES); do echo "rm -f \"$(DESTDIR)$(LESSON_DIR)/models/$$m/$$f\""; \
	  rm -f "$(DESTDIR)$(LESSON_DIR)/models/$$m/$$f"; done; \
	  if rmdir "$(DESTDIR)$(LESSON_DIR)/models/$$m" 2>/dev/null; then echo "rmdir \"$(DESTDIR)$(LESSON_DIR)/models/$$m\""; fi; done
	@for d in "$(DESTDIR)$(LESSON_DIR)/models" "$(DESTDIR)$(LESSON_DIR)" "$(DESTDIR)$(PREFIX)/share/attn-trace" "$(DESTDIR)$(DOCDIR)"; do \
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
	@$(MAKE) --no-print-directory $(PAR) build-bin
	./tests/docs_test.sh --update ./$(BIN)

lint-man:
	@if command -v mandoc >/dev/null 2>&1; then \
	  mandoc -T lint -W warning $(MANPAGE) && echo "lint-man: $(MANPAGE) is clean"; \
	elif [ -n "$$CI" ]; then \
	  echo "lint-man: mandoc is not installed (.ci/run installs it)" >&2; exit 1; \
	else \
	  echo "lint-man: skipped: mandoc is not installed (Debian: apt-get install mandoc)"; \
	fi

# ---------------------------------------------------------------------------
# The layout of the C code: .clang-format (STYLE.md rule 8), written for
# clang-format 14 (another version may lay out a few lines differently;
# CLANG_FORMAT=clang-format-14 picks that one when both are installed).
#
#   make format        rewrites every C file of src/ and tests/ in place
#   make format-check  lists the files clang-format would change and fails
#                      when there is one; skipped with a message when
#                      clang-format is missing, except under CI (CI=true)
ifeq ($(origin CLANG_FORMAT),undefined)
CLANG_FORMAT := $(shell command -v clang-format-14 2>/dev/null || echo clang-format)
endif
# (src/format/unicode_tables.c is generated by tests/gen_unicode_tables.js: left as written)
FORMAT_FILES = $(filter-out src/format/unicode_tables.c,$(sort $(wildcard src/*/*.c src/*/*.h tests/*.c tests/*.h \
               tests/fuzz/*.c tests/fuzz/*.h)))

format:
	@command -v $(CLANG_FORMAT) >/dev/null 2>&1 || \
	  { echo "make format: $(CLANG_FORMAT) is not installed (Debian: apt-get install clang-format)" >&2; exit 1; }
	$(CLANG_FORMAT) -i --style=file $(FORMAT_FILES)

format-check:
	@if ! command -v $(CLANG_FORMAT) >/dev/null 2>&1; then \
	  if [ -n "$$CI" ]; then echo "format-check: $(CLANG_FORMAT) is not installed (.ci/run installs it)" >&2; exit 1; fi; \
	  echo "format-check: skipped: $(CLANG_FORMAT) is not installed (Debian: apt-get install clang-format)"; exit 0; \
	fi; \
	bad=""; for f in $(FORMAT_FILES); do \
	  $(CLANG_FORMAT) --style=file "$$f" | cmp -s - "$$f" || bad="$$bad $$f"; \
	done; \
	if [ -n "$$bad" ]; then \
	  echo "format-check: clang-format ($$($(CLANG_FORMAT) --version | sed 's/.*version //')) would change:"; \
	  for f in $$bad; do echo "  $$f"; done; \
	  echo "format-check: make format rewrites them"; exit 1; \
	fi; \
	echo "format-check: the $(words $(FORMAT_FILES)) C files follow .clang-format"

# --- fuzzing (tests/fuzz) ---
# libFuzzer harnesses (tests/fuzz/fuzz_*.c): the lesson parser, einsum, the
# command line, key sequences against the tracer's composer, the changes of
# an experiment (experiment: lines, the x prompt), and the file
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
FUZZ_HARNESSES := lesson einsum cli keys json safetensors vocab merges npy progress linemode experiment
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
FUZZ_MAX_LEN_vocab  := 4096
FUZZ_MAX_LEN_merges := 4096
FUZZ_MAX_LEN_safetensors := 4096
FUZZ_MAX_LEN_npy    := 4096
FUZZ_MAX_LEN_progress := 1024
FUZZ_MAX_LEN_linemode := 4096
FUZZ_MAX_LEN_experiment := 1024
FUZZ_RPAREN := )# a ")" that $(foreach) can write into the case arms below

# The replay builds: the library's objects (without tui.c, so no curses),
# each harness and the shared main, with the project's flags.
FUZZ_REPLAY_LIB  := $(filter-out $(BUILD)/obj/tui/tui.o,$(OBJ_LIB))
FUZZ_REPLAY_BINS := $(FUZZ_HARNESSES:%=$(BUILD)/fuzz-replay-%)
FUZZ_REPLAY_OBJ  := $(FUZZ_HARNESSES:%=$(BUILD)/obj/tests/fuzz/fuzz_%.o) $(BUILD)/obj/tests/fuzz/replay_main.o

.PHONY: fuzz fuzz-build fuzz-replay fuzz-clean
# the harnesses' objects are made by a chain of pattern rules: keep them
.SECONDARY: $(FUZZ_REPLAY_OBJ) $(FUZZ_HARNESSES:%=$(FUZZ_BUILD)/obj/fuzz/fuzz_%.o) $(FUZZ_LIB_OBJ)

build-tests: $(FUZZ_REPLAY_BINS)
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
	  case $$h in $(foreach f,$(FUZZ_HARNESSES),$(f)$(FUZZ_RPAREN) max=$(FUZZ_MAX_LEN_$(f));;) *) max=4096;; esac; \
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
