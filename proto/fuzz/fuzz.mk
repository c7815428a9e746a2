# Build and run the libFuzzer target of the proto decoder. From the project top:
#   make -f proto/fuzz/fuzz.mk BUILD=build-fuzz [FUZZ_SECONDS=60]   (or: make fuzz)
# Builds $(BUILD)/proto_fuzz with clang -fsanitize=fuzzer,address,undefined,
# seeds $(BUILD)/corpus with one valid frame per schema row (plus any files in
# proto/fuzz/corpus/), then fuzzes for FUZZ_SECONDS. Exits non-zero when the
# fuzzer finds a crash, a sanitizer error, a leak, a timeout or an allocation
# over FUZZ_MALLOC_MB (the reproducer is left as $(BUILD)/crash-*, leak-*, ...).
# Needs clang and libclang-rt-14-dev (deploy/deps installs both).

BUILD          ?= build-fuzz
FUZZ_SECONDS   ?= 60
FUZZ_MAX_LEN   ?= 70000
FUZZ_MALLOC_MB ?= 64
CC             := clang

FUZZER  := $(BUILD)/proto_fuzz
CORPUS  := $(BUILD)/corpus
DICT    := $(BUILD)/proto.dict
SRCS    := $(filter-out %_test.c,$(wildcard proto/*.c)) common/log.c proto/fuzz/proto_fuzz.c
HDRS    := $(wildcard proto/*.h) common/log.h
PKGS    := msgpack libsodium
FCFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -Wshadow -Wvla \
           -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
           -fno-sanitize-recover=undefined -I. $(shell pkg-config --cflags $(PKGS))
FLIBS   := $(shell pkg-config --libs $(PKGS))

.PHONY: run seed build
.DEFAULT_GOAL := run

build: $(FUZZER)

$(FUZZER): $(SRCS) $(HDRS) proto/fuzz/fuzz.mk
	@mkdir -p $(BUILD)
	$(CC) $(FCFLAGS) $(SRCS) -o $@ $(FLIBS)

seed: $(FUZZER)
	@mkdir -p $(CORPUS)
	PROTO_FUZZ_SEED_DIR=$(CORPUS) PROTO_FUZZ_DICT=$(DICT) $(FUZZER)
	@if [ -d proto/fuzz/corpus ]; then cp -n proto/fuzz/corpus/* $(CORPUS)/ 2>/dev/null || true; fi

# A malloc over FUZZ_MALLOC_MB is a finding: frames are at most FUZZ_MAX_LEN bytes.
run: seed
	$(FUZZER) -max_len=$(FUZZ_MAX_LEN) -max_total_time=$(FUZZ_SECONDS) \
	  -malloc_limit_mb=$(FUZZ_MALLOC_MB) -timeout=10 -dict=$(DICT) \
	  -artifact_prefix=$(BUILD)/ -print_final_stats=1 $(CORPUS)
