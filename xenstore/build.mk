# SPDX-License-Identifier: MIT
# xenstored (the Xen store daemon), its unit tests, fuzz target and benchmark.

XS_CORE_SRCS := xenstore/xs_wire.c xenstore/xs_node.c xenstore/xs_tree.c \
	xenstore/xs_txn.c xenstore/xs_perms.c xenstore/xs_store.c \
	xenstore/xs_watch.c xenstore/xs_quota.c xenstore/xs_domain.c \
	xenstore/xs_conn.c xenstore/xs_ops.c xenstore/xs_control.c \
	xenstore/xs_persist.c xenstore/xs_persist_conn.c xenstore/xs_log.c xenstore/xs_daemon.c \
	xenstore/xs_sock.c xenstore/xs_keeper.c xenstore/xs_ring.c xenstore/xs_cbuf.c xenstore/xs_uring.c \
	common/svd.c
XS_CORE_OBJS := $(call host_objs,$(XS_CORE_SRCS))
# The daemon proper adds the hypervisor glue (libsvxen, from dom0/lib).
XS_MAIN_OBJS := $(call host_objs,xenstore/xs_main.c xenstore/xs_xen.c)

PROGRAMS += $(BIN)/xenstored

$(BIN)/xenstored: $(XS_MAIN_OBJS) $(XS_CORE_OBJS) $(SV_LIBS_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^

# Check suites: the real sources against an in-memory transport.
XS_TEST_HARNESS := $(call host_objs,tests/unit/xs_harness.c)
XS_TESTS := test_xs_wire test_xs_tree test_xs_perms test_xs_watch \
	test_xs_txn test_xs_quota test_xs_restart test_xs_ring test_xs_cbuf test_xs_uring
UNIT_TESTS += $(addprefix $(TESTBIN)/,$(XS_TESTS))

$(addprefix $(TESTBIN)/,$(XS_TESTS)): $(TESTBIN)/%: $(OBJ)/tests/unit/%.o $(XS_TEST_HARNESS) $(XS_CORE_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

# libFuzzer target for the request path (clang); run briefly by
# tests/integration/xenstore_fuzz.sh and for long by `make bench-fuzz`.
XS_FUZZ := $(BUILD)/fuzz/xenstore_fuzz
XS_FUZZ_CFLAGS := -std=gnu11 -O1 -g -D_GNU_SOURCE -Iinclude \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
all: $(XS_FUZZ)
$(XS_FUZZ): fuzz/xenstore_fuzz.c $(XS_CORE_SRCS) $(wildcard xenstore/*.h)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang $(XS_FUZZ_CFLAGS) -o $@ fuzz/xenstore_fuzz.c $(XS_CORE_SRCS)

XS_FUZZ_SECONDS ?= 300
.PHONY: bench-fuzz
bench-fuzz: $(XS_FUZZ)
	$(Q)BUILD=$(BUILD) XS_FUZZ_SECONDS=$(XS_FUZZ_SECONDS) bash fuzz/xenstore_fuzz.sh

# Benchmark client (bench/xenstore.sh runs it against a private daemon).
BENCHES += $(BUILD)/bench/xenstore_bench
$(BUILD)/bench/xenstore_bench: $(call host_objs,bench/xenstore_bench.c)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lm

# LD_PRELOAD shim that runs Debian's C xenstored without Xen, for the
# side-by-side comparison in bench/xenstore.sh. Never sanitized: it is
# loaded into a program that is not.
BENCHES += $(BUILD)/bench/xs_fakexen.so
$(BUILD)/bench/xs_fakexen.so: bench/xs_fakexen.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS_COMMON) -fPIC -shared -o $@ $< -ldl
