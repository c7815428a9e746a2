# RingCentral authorization-code OAuth demo, in C.
#   make            make deps, then build every binary into build/
#   make SAN=1      the same with ASan + UBSan (into build-san/)
#   make test       build and run every test; ends with "N passed, N failed"
#   make test-unit  the C unit tests (and make check) only
#   make check      prove the architecture's rules on the build (docs/ARCHITECTURE.md)
#   make format     lay the C sources out as .clang-format says (make test checks it: tests/check-format)
#   make SAN=thread the same with ThreadSanitizer (into build-tsan/)
#   make deps       install the Debian packages building and running need (idempotent; make test,
#                   bench and fuzz add their own: deploy/deps test|bench|fuzz)
#   make fuzz       build and run the libFuzzer target of the proto decoder
#   make bench      measure the deployed stack with wrk and tests/loadgen (tests/bench/run)
#   make run / stop / restart   the whole system (deploy/run; deploy/stop; deploy/stop + deploy/start)
#   make clean

SHELL := /bin/bash
CC    ?= cc
SAN   ?= 0
BUILD ?= $(if $(filter 1,$(SAN)),build-san,$(if $(filter thread,$(SAN)),build-tsan,build))

# The user's CFLAGS / LDFLAGS (optimisation, debug) are kept apart from the project's own flags, so
# `make CFLAGS=-O0` changes only what it says.
CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes -Wvla
OPTIMISED := $(filter -O1 -O2 -O3 -Os -Og -Ofast -O,$(CFLAGS))
PROJECT_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -fstack-protector-strong -I. -MMD -MP \
                  $(if $(OPTIMISED),-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2)
# Full RELRO; each binary maps only the libraries it uses (each costs resident pages per process).
PROJECT_LDFLAGS := -Wl,-z,relro,-z,now -Wl,--as-needed
LDLIBS    += -lm
# The version build_info reports (metrics): git describe of the tree, or VERSION=... on the command line.
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
ifeq ($(SAN),1)
PROJECT_CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
PROJECT_LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SAN),thread)
PROJECT_CFLAGS  += -O1 -fsanitize=thread -fno-omit-frame-pointer
PROJECT_LDFLAGS += -fsanitize=thread
endif
ALL_CFLAGS  = $(PROJECT_CFLAGS) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(PROJECT_LDFLAGS) $(LDFLAGS)

# What each binary may link: the architecture (docs/ARCHITECTURE.md, "Rules"), kept by the build.
# The gateway has neither libcurl nor LMDB: a call into either fails to link, and gateway/forbidden.h
# (force-included into its objects) makes their headers fail to compile.
gateway_PKGS := libzmq libczmq msgpack jansson libsodium
gateway_LIBS := -lcivetweb -lpthread
authsvc_PKGS := libzmq libczmq libcurl msgpack lmdb jansson libsodium yajl
apisvc_PKGS  := $(authsvc_PKGS)
mockrc_PKGS  := jansson libsodium
mockrc_LIBS  := -lcivetweb -lpthread
loadgen_PKGS := libcurl
loadgen_LIBS := -lpthread
# Tests and the shared libraries' objects see every package.
PKGS      := libzmq libczmq libcurl msgpack lmdb jansson libsodium yajl
TEST_LIBS := -lcivetweb -lpthread

# pkg-config runs only after `make deps` has installed the packages.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
pkg_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)

# Every folder's sources are found by wildcard: a new module needs no Makefile edit.
lib_srcs   = $(filter-out %_test.c %/main.c,$(wildcard $(1)/*.c $(1)/*.S))
COMMON_SRC := $(call lib_srcs,common)
PROTO_SRC  := $(call lib_srcs,proto)
# The tests' library: the harness and tests/support/*.c (test-only entry points such as the store's hooks).
TESTLIB_SRC:= tests/testlib.c $(wildcard tests/support/*.c)
SERVICES   := gateway authsvc apisvc tests/mockrc tests/loadgen
TEST_SRC   := $(wildcard common/*_test.c proto/*_test.c proto/fuzz/*_test.c gateway/*_test.c authsvc/*_test.c apisvc/*_test.c tests/mockrc/*_test.c)

obj = $(patsubst %.S,$(BUILD)/obj/%.o,$(patsubst %.c,$(BUILD)/obj/%.o,$(1)))
LIBCOMMON := $(BUILD)/lib/libcommon.a
LIBPROTO  := $(BUILD)/lib/libproto.a
LIBTEST   := $(BUILD)/lib/libtest.a
BINS      := $(foreach s,$(SERVICES),$(if $(wildcard $(s)/main.c),$(BUILD)/bin/$(notdir $(s))))
TESTS     := $(patsubst %.c,$(BUILD)/test/%,$(notdir $(TEST_SRC)))
# Test shims (tests/faults/*.c): LD_PRELOAD'ed into services by integration tests, never linked into one.
SHIMS     := $(patsubst tests/faults/%.c,$(BUILD)/lib/%.so,$(wildcard tests/faults/*.c))

.PHONY: all binaries deps test test-unit check check-rules format fuzz clean run stop restart bench
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory binaries

binaries: $(BINS) $(TESTS) $(SHIMS)

deps:
	@deploy/deps

# V=1 shows the full commands.
Q := $(if $(filter 1,$(V)),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(OBJ_CFLAGS) -c $< -o $@

# gateway/forbidden.h: see above. Its tests are exempt (the more specific pattern wins).
$(BUILD)/obj/gateway/%.o: OBJ_CFLAGS = -include gateway/forbidden.h
$(BUILD)/obj/gateway/%_test.o: OBJ_CFLAGS =

# Assembler sources: files embedded with .incbin (gateway/assets_data.S embeds gateway/static/*).
$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS    $<")
	$(Q)$(CC) -MMD -MP -c $< -o $@
$(BUILD)/obj/gateway/assets_data.o: $(wildcard gateway/static/*)

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBPROTO):  $(call obj,$(PROTO_SRC))
$(LIBTEST):   $(call obj,$(TESTLIB_SRC))
$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/common/metrics.o: OBJ_CFLAGS = -DRCAUTH_VERSION='"$(VERSION)"'

# A service binary: its folder's objects + proto + common, linked with its own libraries only.
define service_rules
$(BUILD)/bin/$(notdir $(1)): $(call obj,$(filter-out %_test.c,$(wildcard $(1)/*.c $(1)/*.S))) $(LIBPROTO) $(LIBCOMMON)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LINK  $$@")
	$$(Q)$$(CC) $$(ALL_LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBPROTO) $(LIBCOMMON) \
		$$(call pkg_libs,$$($(notdir $(1))_PKGS)) $$($(notdir $(1))_LIBS) $$(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call service_rules,$(s))))

# authsvc's tests talk to a scripted token endpoint and read clocks they set (tests/support/http_script.c,
# clock_fake.c): the linker sends their calls of http_start and of the two clocks there, in those binaries only.
$(patsubst authsvc/%.c,$(BUILD)/test/%,$(filter authsvc/%,$(TEST_SRC))): \
	TEST_WRAP := -Wl,--wrap=http_start,--wrap=clock_now_ms,--wrap=clock_mono_ms

# A unit test binary: the test file + its folder's non-main objects + libs.
define test_rules
$(BUILD)/test/$(notdir $(basename $(1))): $(call obj,$(1) $(call lib_srcs,$(patsubst %/,%,$(dir $(1))))) $(LIBPROTO) $(LIBCOMMON) $(LIBTEST)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LINK  $$@")
	$$(Q)$$(CC) $$(ALL_LDFLAGS) $$(TEST_WRAP) -o $$@ $$(filter %.o,$$^) $(LIBTEST) $(LIBPROTO) $(LIBCOMMON) \
		$$(call pkg_libs,$(PKGS)) $(TEST_LIBS) $$(LDLIBS)
endef
$(foreach t,$(TEST_SRC),$(eval $(call test_rules,$(t))))

# A shim is built without the sanitizers (it is preloaded into processes that may or may not have them).
$(BUILD)/lib/%.so: tests/faults/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  SHIM  $@")
	$(Q)$(CC) $(filter-out -fsanitize=%,$(ALL_CFLAGS)) -fPIC -shared -o $@ $< -ldl

test: all
	@deploy/deps test
	@BUILD=$(BUILD) tests/run

# The rules of docs/ARCHITECTURE.md, proven on this build (tests/run runs it too).
check: binaries
	@$(MAKE) --no-print-directory check-rules
# The rules alone, on what BUILD holds: tests/run uses it, as the build must not change under running tests.
check-rules:
	@BUILD=$(BUILD) CC="$(CC)" GATEWAY_CFLAGS="$(ALL_CFLAGS) -include gateway/forbidden.h" \
		GATEWAY_LINK="$(call pkg_libs,$(gateway_PKGS)) $(gateway_LIBS)" tests/check-architecture

format:
	@command -v clang-format >/dev/null || deploy/deps test
	clang-format -i --style=file $$(git ls-files '*.c' '*.h')

test-unit: all
	@BUILD=$(BUILD) tests/run unit

fuzz: deps
	@deploy/deps fuzz
	@$(MAKE) --no-print-directory -f proto/fuzz/fuzz.mk BUILD=build-fuzz

run: all
	@deploy/run

stop:
	@deploy/stop

# Stop and start again in the background (e.g. after changing environment/ or a setting).
restart: all
	@deploy/stop
	@deploy/start

bench: all
	@deploy/deps bench
	@tests/bench/run

clean:
	rm -rf build build-san build-tsan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
