# SPDX-License-Identifier: MIT
# Benchmark programs, built into $(BUILD)/bench/ and run by `make bench`.

# kvmraw: raw /dev/kvm baselines (VM start, CPL3 I/O exit, ioeventfd write).
KVMRAW_SRCS := bench/kvmraw.c
KVMRAW_OBJS := $(call host_objs,$(KVMRAW_SRCS))

BENCHES += $(BUILD)/bench/kvmraw

$(BUILD)/bench/kvmraw: $(KVMRAW_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $(KVMRAW_OBJS)

# svbench-io: event-channel round trips and grant map/copy rates, with their floors.
BENCHES += $(BUILD)/bench/svbench-io
$(BUILD)/bench/svbench-io: $(call host_objs,bench/svbench_io.c) $(BUILD)/lib/libsvxen.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lxenstore
