# RingCentral authorization-code OAuth demo, in C.
#   make            build every binary into build/
#   make SAN=1      the same with ASan + UBSan (into build-san/)
#   make test       build and run every test; ends with "N passed, N failed"
#   make deps       install the Debian packages the build needs (idempotent)
#   make fuzz       build and run the libFuzzer target of the proto decoder
#   make run / stop / restart   the whole system (deploy/start, deploy/stop)
#   make clean

SHELL := /bin/bash
CC    ?= cc
SAN   ?= 0
BUILD ?= $(if $(filter 1,$(SAN)),build-san,build)

PKGS      := libzmq libczmq libcurl msgpack lmdb jansson libsodium yajl
WARN      := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes -Wvla
CFLAGS    ?= -O2 -g
CFLAGS    += -std=c11 -D_GNU_SOURCE $(WARN) -fstack-protector-strong -I. -MMD -MP
LDLIBS    += -lcivetweb -lpthread -lm
# The version build_info reports (metrics): git describe of the tree, or VERSION=... on the command line.
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
# Each binary maps only the libraries it uses (each costs resident pages per process).
LDFLAGS   += -Wl,--as-needed
ifeq ($(SAN),1)
CFLAGS    += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
endif

# pkg-config runs only after `make deps` has installed the packages.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# Every folder's sources are found by wildcard: a new module needs no Makefile edit.
lib_srcs   = $(filter-out %_test.c %/main.c,$(wildcard $(1)/*.c))
COMMON_SRC := $(call lib_srcs,common)
PROTO_SRC  := $(call lib_srcs,proto)
TESTLIB_SRC:= tests/testlib.c
SERVICES   := gateway authsvc apisvc tests/mockrc tests/loadgen
TEST_SRC   := $(wildcard common/*_test.c proto/*_test.c gateway/*_test.c authsvc/*_test.c apisvc/*_test.c tests/mockrc/*_test.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIBCOMMON := $(BUILD)/lib/libcommon.a
LIBPROTO  := $(BUILD)/lib/libproto.a
LIBTEST   := $(BUILD)/lib/libtest.a
BINS      := $(foreach s,$(SERVICES),$(if $(wildcard $(s)/main.c),$(BUILD)/bin/$(notdir $(s))))
TESTS     := $(patsubst %.c,$(BUILD)/test/%,$(notdir $(TEST_SRC)))
# Test shims (tests/faults/*.c): LD_PRELOAD'ed into services by integration tests, never linked into one.
SHIMS     := $(patsubst tests/faults/%.c,$(BUILD)/lib/%.so,$(wildcard tests/faults/*.c))

.PHONY: all deps test test-unit fuzz clean run stop restart bench check-deps
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
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBPROTO):  $(call obj,$(PROTO_SRC))
$(LIBTEST):   $(call obj,$(TESTLIB_SRC))
$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/common/metrics.o: CFLAGS += -DRCAUTH_VERSION='"$(VERSION)"'

# A service binary: its folder's objects + proto + common.
define service_rules
$(BUILD)/bin/$(notdir $(1)): $(call obj,$(filter-out %_test.c,$(wildcard $(1)/*.c))) $(LIBPROTO) $(LIBCOMMON)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LINK  $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBPROTO) $(LIBCOMMON) $$(PKG_LIBS) $$(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call service_rules,$(s))))

# A unit test binary: the test file + its folder's non-main objects + libs.
define test_rules
$(BUILD)/test/$(notdir $(basename $(1))): $(call obj,$(1) $(call lib_srcs,$(patsubst %/,%,$(dir $(1))))) $(LIBPROTO) $(LIBCOMMON) $(LIBTEST)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LINK  $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBTEST) $(LIBPROTO) $(LIBCOMMON) $$(PKG_LIBS) $$(LDLIBS)
endef
$(foreach t,$(TEST_SRC),$(eval $(call test_rules,$(t))))

# A shim is built without the sanitizers (it is preloaded into processes that may or may not have them).
$(BUILD)/lib/%.so: tests/faults/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  SHIM  $@")
	$(Q)$(CC) $(filter-out -fsanitize=%,$(CFLAGS)) $(PKG_CFLAGS) -fPIC -shared -o $@ $< -ldl

test: all
	@BUILD=$(BUILD) tests/run

fuzz: deps
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
	@tests/bench/run

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
