# SPDX-License-Identifier: MIT
# libFuzzer targets (clang) for the parsers a guest or a config file feeds:
# blkback's request checks, netback's tx request chains, the xl config
# parser, the ELF loader and the hypercall argument decoders.  Each is compiled with the real sources (never
# copies); fuzz/run_fuzz.sh NAME SECONDS runs one from tests/fuzz/NAME/.
# tests/integration/fuzz_targets.sh runs each for 10 s in `make test`;
# `make bench-fuzz` for FUZZ_SECONDS (default 120) each.
# (xenstore's own target, XS_FUZZ, is in xenstore/build.mk.)

FUZZ_NAMES := blk_req net_tx config elf hypercall
FUZZERS := $(addprefix $(BUILD)/fuzz/,$(addsuffix _fuzz,$(FUZZ_NAMES)))
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wno-gnu-variable-sized-type-not-at-end -D_GNU_SOURCE -D__XEN_TOOLS__ -Iinclude \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
all: $(FUZZERS)

FUZZ_blk_req_SRCS := backends/blk/blk_req.c
FUZZ_blk_req_LIBS :=
# nb_tx.c holds the data plane too: link the rest of it and libsvxen.a
# (uninstrumented, only to resolve the grant/event calls nothing here makes).
FUZZ_net_tx_SRCS := $(NETBACK_CORE_SRCS) common/svd.c
FUZZ_net_tx_LIBS := $(SV_LIBS_A) -pthread
FUZZ_config_SRCS := dom0/config.c dom0/config_syntax.c dom0/devspec.c
FUZZ_config_LIBS :=
FUZZ_elf_SRCS := dom0/elf.c dom0/elf_gz.c dom0/elf_unpack.c dom0/build_layout.c
FUZZ_elf_LIBS := -lz -llzma -lbz2 -llz4 -lzstd
# The hypervisor core without its daemon parts (main.c, ctl.c), as test_hypercall links
# it ("=": hypervisor/build.mk, read later, defines HV_SRCS).
FUZZ_hypercall_SRCS = $(filter-out hypervisor/main.c hypervisor/ctl.c,$(HV_SRCS)) common/svd.c \
	tests/fakes/hv_fake_engine.c
FUZZ_hypercall_LIBS := -lurcu-bp -pthread

$(BUILD)/fuzz/net_tx_fuzz: $(SV_LIBS_A)

.SECONDEXPANSION:
$(FUZZERS): $(BUILD)/fuzz/%_fuzz: fuzz/%_fuzz.c $$(FUZZ_$$*_SRCS) $$(wildcard $$(dir $$(FUZZ_$$*_SRCS))*.h)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_CFLAGS) -o $@ fuzz/$*_fuzz.c $(FUZZ_$*_SRCS) $(FUZZ_$*_LIBS)

FUZZ_SECONDS ?= 120
.PHONY: bench-fuzz bench-fuzz-targets
bench-fuzz: bench-fuzz-targets
bench-fuzz-targets: $(FUZZERS)
	$(Q)rc=0; for n in $(FUZZ_NAMES); do \
		BUILD=$(BUILD) bash fuzz/run_fuzz.sh $$n $(FUZZ_SECONDS) || rc=1; \
	done; exit $$rc
