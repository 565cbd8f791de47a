# pkt-record / pkt-analyze
#   make            build both tools (eBPF objects, skeletons, binaries)
#   make deps       install the Debian packages the build and tests need (root)
#   make check      run every test; ends with "N passed, N failed[, N skipped]"
#   make demo       record a ping across a demo topology and analyze it
#   make bench      measure recording cost and analysis speed against peers
#   make install    PREFIX=/usr/local DESTDIR=

VERSION    := 0.1.0
CC         ?= gcc
CLANG      ?= clang
BPFTOOL    ?= bpftool
PREFIX     ?= /usr/local
# Wireshark reads Lua plugins only from its own folders (not from PREFIX):
# ask the installed Wireshark, fall back to the upstream default layout.
WIRESHARK_PLUGINDIR ?= $(or $(shell tshark -G folders 2>/dev/null | sed -n 's/^Global Lua Plugins:[[:space:]]*//p'),$(PREFIX)/lib/wireshark/plugins)
BUILD      := build
ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')

WARN       := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
# CFLAGS is the user's (make CFLAGS=-O0 works); what the build needs is in
# CPPFLAGS (preprocessor) and STD/WARN, always added.
CFLAGS     ?= -O2 -g
override CPPFLAGS += -D_GNU_SOURCE -DPKT_VERSION='"$(VERSION)"' -Icommon -Ibpf -I$(BUILD)
STD        := -std=gnu11
COMPILE    = $(CC) $(CPPFLAGS) $(STD) $(WARN) $(CFLAGS)
LDLIBS     := -lbpf -lelf -lz -lpcap -lzstd -lmnl
SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

COMMON_SRC := $(wildcard common/*.c)
COMMON_HDR := $(wildcard common/*.h)
RECORD_SRC := $(wildcard record/*.c)
ANALYZE_SRC:= $(wildcard analyze/*.c)
# the analysis proper (no I/O), linked into the unit tests and fuzz targets too
# analyzer sources with unit tests and fuzz targets (no main, no output)
ANALYSIS_SRC:= $(wildcard analyze/packets.c analyze/pairs.c) analyze/graph.c analyze/topology.c \
	       analyze/clock.c analyze/causes.c analyze/why.c analyze/nsnames.c
ANALYSIS_HDR:= analyze/flow.h $(wildcard analyze/flow_int.h) analyze/why.h
BPF_SRC    := $(wildcard bpf/*.bpf.c)
BPF_OBJ    := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRC))
SKELS      := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRC))
UNIT_SRC   := $(wildcard tests/unit/*.c)
# recorder sources with unit tests (pure: no BPF, no globals)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY:= $(patsubst tests/fuzz/%.c,$(BUILD)/replay_%,$(FUZZ_SRC))
FUZZ_BIN   := $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(FUZZ_SRC))

COMMON_OBJ := $(patsubst common/%.c,$(BUILD)/common/%.o,$(COMMON_SRC))
# pkt-record's parts that need neither libbpf nor the kernel: unit-tested and fuzzed
RECORD_UNIT_SRC := record/event.c record/ksyms.c record/trackset.c record/tracker.c record/names.c record/links.c record/netinfo.c

.PHONY: all deps check unit fuzz fuzz-replay demo bench install uninstall clean samples format

all: pkt-record pkt-analyze

deps:
	@bash tests/install-deps.sh

$(BUILD)/common/%.o: common/%.c $(COMMON_HDR) bpf/hooks.def | $(BUILD)/common
	$(COMPILE) -c $< -o $@

$(BUILD)/common $(BUILD)/record $(BUILD)/analyze:
	mkdir -p $@

# eBPF: CO-RE object from the checked-in vmlinux subset, then a skeleton.
BPF_COMPILE = $(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Wall -Werror
$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) bpf/hooks.def | $(BUILD)/common
	$(BPF_COMPILE) -c $< -o $@.tmp
	$(BPFTOOL) gen object $@ $@.tmp
	rm -f $@.tmp

# make bench's floor: count-only programs on the same hooks (tests/bench/floor.c)
$(BUILD)/floor.bpf.o: tests/bench/floor.bpf.c $(wildcard bpf/*.h) bpf/hooks.def | $(BUILD)/common
	$(BPF_COMPILE) -c $< -o $@.tmp
	$(BPFTOOL) gen object $@ $@.tmp
	rm -f $@.tmp

$(BUILD)/bench-floor: tests/bench/floor.c $(BUILD)/floor.skel.h
	$(COMPILE) -o $@ $< $(LDFLAGS) $(LDLIBS)

# the reader's cost per event without the kernel: a recording replayed through
# event decode, comment, EPB and zstd (tests/perf/reader_replay.c)
$(BUILD)/reader-replay: tests/perf/reader_replay.c $(RECORD_UNIT_SRC) record/output.c $(wildcard record/*.h) $(COMMON_OBJ) | $(BUILD)/common
	$(COMPILE) -Irecord -o $@ $< $(RECORD_UNIT_SRC) record/output.c $(COMMON_OBJ) $(LDFLAGS) $(LDLIBS)

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

pkt-record: $(RECORD_SRC) $(wildcard record/*.h) $(COMMON_OBJ) $(SKELS) $(wildcard bpf/*.h) bpf/hooks.def
	$(COMPILE) -o $@ $(RECORD_SRC) $(COMMON_OBJ) $(LDFLAGS) $(LDLIBS)

pkt-analyze: $(ANALYZE_SRC) $(wildcard analyze/*.h) $(COMMON_OBJ)
	$(COMPILE) -pthread -o $@ $(ANALYZE_SRC) $(COMMON_OBJ) $(LDFLAGS) $(LDLIBS)

# Unit tests run under AddressSanitizer + UndefinedBehaviorSanitizer.
$(BUILD)/unit-tests: $(UNIT_SRC) $(RECORD_UNIT_SRC) $(ANALYSIS_SRC) $(ANALYSIS_HDR) $(wildcard tests/unit/*.h) $(wildcard bpf/*.h) bpf/hooks.def $(COMMON_SRC) $(COMMON_HDR) $(wildcard record/*.h) | $(BUILD)/common
	$(CC) $(CPPFLAGS) -Itests/unit -Irecord -Ianalyze $(STD) $(WARN) -O1 -g $(SAN) \
		-o $@ $(UNIT_SRC) $(RECORD_UNIT_SRC) $(ANALYSIS_SRC) $(COMMON_SRC) $(LDLIBS)

# Fuzz targets: libFuzzer builds (make fuzz), and replay builds that run the
# committed corpus under ASan+UBSan without libFuzzer (make check).
$(BUILD)/replay_%: tests/fuzz/%.c tests/fuzz/replay_main.c $(COMMON_SRC) $(COMMON_HDR) $(RECORD_UNIT_SRC) $(ANALYSIS_SRC) $(ANALYSIS_HDR) | $(BUILD)/common
	$(CC) $(CPPFLAGS) -Irecord -Ianalyze $(STD) $(WARN) -O1 -g $(SAN) -o $@ $< tests/fuzz/replay_main.c $(COMMON_SRC) $(RECORD_UNIT_SRC) $(ANALYSIS_SRC) $(LDLIBS)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(COMMON_SRC) $(COMMON_HDR) $(RECORD_UNIT_SRC) $(ANALYSIS_SRC) $(ANALYSIS_HDR) | $(BUILD)/common
	$(CLANG) $(CPPFLAGS) -Irecord -Ianalyze $(STD) -O1 -g -fsanitize=fuzzer,address,undefined -o $@ $< $(COMMON_SRC) $(RECORD_UNIT_SRC) $(ANALYSIS_SRC) $(LDLIBS)

unit: $(BUILD)/unit-tests
fuzz: $(FUZZ_BIN)
fuzz-replay: $(FUZZ_REPLAY)

# Installs what is missing (as root); as a user without every package it
# builds and runs what it can and reports the rest as skipped (CI: failed).
check:
	@bash tests/check.sh

demo: deps all
	@bash tests/demo.sh

bench: deps all $(BUILD)/bench-floor
	@bash tests/bench.sh

samples: all
	@bash samples/record-samples.sh

format:
	clang-format -i $(COMMON_SRC) $(COMMON_HDR) $(RECORD_SRC) $(ANALYZE_SRC) $(BPF_SRC) bpf/pktrec.h bpf/track_rules.h $(UNIT_SRC) $(FUZZ_SRC)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 pkt-record pkt-analyze $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 docs/pkt-record.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 docs/pkt-analyze.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	if [ -f docs/pkt-record.bash-completion ]; then \
		install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions && \
		install -m 0644 docs/pkt-record.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pkt-record && \
		install -m 0644 docs/pkt-analyze.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pkt-analyze; fi
	if [ -f wireshark/pktrec.lua ]; then \
		install -d $(DESTDIR)$(WIRESHARK_PLUGINDIR) && \
		install -m 0644 wireshark/pktrec.lua $(DESTDIR)$(WIRESHARK_PLUGINDIR)/; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pkt-record $(DESTDIR)$(PREFIX)/bin/pkt-analyze \
	      $(DESTDIR)$(PREFIX)/share/man/man8/pkt-record.8 $(DESTDIR)$(PREFIX)/share/man/man1/pkt-analyze.1 \
	      $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pkt-record \
	      $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pkt-analyze \
	      $(DESTDIR)$(WIRESHARK_PLUGINDIR)/pktrec.lua

clean:
	rm -rf $(BUILD) pkt-record pkt-analyze tests/out

# ceiling builds of the kernel side (docs/performance.md, issue 17): measurement only,
# not installed; make bench's conditions ceil-a..d run them
$(BUILD)/ceil.bpf.o: tests/bench/ceil.bpf.c $(wildcard bpf/*.h) bpf/hooks.def | $(BUILD)/common
	$(BPF_COMPILE) -c $< -o $@.tmp
	$(BPFTOOL) gen object $@ $@.tmp
	rm -f $@.tmp

$(BUILD)/ceil: tests/bench/ceil.c $(BUILD)/ceil.skel.h
	$(COMPILE) -o $@ $< $(LDFLAGS) $(LDLIBS)
