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
