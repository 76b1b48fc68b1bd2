# Lockbox: a plain GNU Makefile driven by pkg-config.
#
#   make                  build build/lockboxd and build/lockbox
#   make run              install what is missing, build, run the daemon on
#                         SQLite in ./var (loads a demo on a new data dir)
#   make test             install what the tests need, build, run every test,
#                         then again under AddressSanitizer + UBSan
#   make SANITIZER=asan   build into build-asan/ with ASan + UBSan
#   make bench            run the benchmarks (see BENCHMARKS.md)

SHELL      := /bin/sh
CC         ?= cc
PKGS       := libmicrohttpd jansson libsodium sqlite3 libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -Wcast-qual -Wundef \
	-Wimplicit-fallthrough -Wnull-dereference -Wdouble-promotion
BASE_CFLAGS := -std=c17 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(WARN) \
	-Iinclude -Isrc -g -pthread

ifeq ($(SANITIZER),asan)
BUILD    ?= build-asan
OPT      := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDSAN    := -fsanitize=address,undefined
else
BUILD    ?= build
OPT      := -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2
LDSAN    :=
endif

CFLAGS  += $(BASE_CFLAGS) $(OPT)
LDFLAGS += $(LDSAN) -pthread

CORE_SRC  := $(wildcard src/core/*.c)
LIB_SRC   := $(CORE_SRC) $(wildcard src/store/*.c src/audit/*.c src/app/*.c \
	src/authz/*.c src/http/*.c src/notify/*.c src/sys/*.c)
CLI_SRC   := $(wildcard src/cli/*.c)

CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/%.o)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all run test test-unit lint-openapi bench clean deps fuzz
all: $(BUILD)/lockboxd $(BUILD)/lockbox

deps:
	@sh scripts/deps.sh build

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/liblockbox.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/lockboxd: $(BUILD)/src/lockboxd.o $(BUILD)/liblockbox.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# The CLI links the core (error table, time and duration parsing), the
# audit verifier (offline verification of exports) and libcurl.
CLI_AUDIT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/audit/verify*.c))
$(BUILD)/lockbox: $(BUILD)/src/lockbox.o $(CLI_OBJ) $(CLI_AUDIT_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# The core's test links the core alone: it proves the core needs no library.
$(BUILD)/tests/test_core: $(BUILD)/tests/unit/test_core.o $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs cmocka)

# The URI map and the emergency rules are core too: their tests link the
# core alone.
$(BUILD)/tests/test_uri $(BUILD)/tests/test_emergency: $(BUILD)/tests/%: \
    $(BUILD)/tests/unit/%.o $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs cmocka)

# Keys and tokens link the core, authz and sys only.
AUTHZ_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/authz/*.c src/sys/*.c))
$(BUILD)/tests/test_jws: $(BUILD)/tests/unit/test_jws.o $(AUTHZ_OBJ) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka) -lm

# The store's test links the core and the store only.
STORE_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/store/*.c))
$(BUILD)/tests/test_store: $(BUILD)/tests/unit/test_store.o $(STORE_OBJ) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka) -lm

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(BUILD)/liblockbox.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka) -lm

# libFuzzer harnesses (clang): each links the core, authz and sys sources.
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN    := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_LIBSRC := $(CORE_SRC) $(wildcard src/authz/*.c src/sys/*.c src/audit/verify*.c)
FUZZ_CFLAGS := -std=c17 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc \
	-g -O1 -fsanitize=fuzzer,address,undefined -Wall -Wextra -Werror -pthread
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIBSRC) $(wildcard src/*/*.h include/lockbox/*.h)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(FUZZ_LIBSRC) $(PKG_LIBS) -lm

fuzz: $(FUZZ_BIN)
	@sh scripts/fuzz.sh $(FUZZ_SECONDS)

run:
	@sh scripts/deps.sh run
	@$(MAKE) --no-print-directory all
	@sh scripts/run.sh

test:
	@sh scripts/deps.sh test
	@sh scripts/test.sh

test-unit: $(UNIT_BIN)
	@sh scripts/test.sh unit $(BUILD)

lint-openapi:
	@sh scripts/lint-openapi.sh

bench:
	@sh scripts/deps.sh test
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh
	@sh bench/audit/run.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(BUILD)/src/lockboxd.d $(BUILD)/src/lockbox.d \
	$(wildcard $(BUILD)/tests/unit/*.d)
