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
$(BUILD)/bench/svbench-io: $(call host_objs,bench/svbench_io.c) $(SV_LIBS_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lxenstore

# procfloor: host floors for the process engine (futex and spin hand-offs between
# two processes, fork+exec of nullprog, the guest's bench-cpu loop on the host).
PROCFLOOR_SRCS := bench/procfloor.c
PROCFLOOR_OBJS := $(call host_objs,$(PROCFLOOR_SRCS))
$(PROCFLOOR_OBJS): HOST_CFLAGS += -Ifrontends/include

BENCHES += $(BUILD)/bench/procfloor $(BUILD)/bench/nullprog

$(BUILD)/bench/procfloor: $(PROCFLOOR_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $(PROCFLOOR_OBJS)

# nullprog: a static program of a few bytes, no libc and never sanitizers.
$(BUILD)/bench/nullprog: bench/nullprog.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -static -nostdlib -fno-stack-protector \
		-fno-asynchronous-unwind-tables -o $@ $<

# memfd-floor: the host's mmap+munmap of one memfd page (bench/pvabi.sh's floor).
BENCHES += $(BUILD)/bench/memfd-floor
$(BUILD)/bench/memfd-floor: $(call host_objs,bench/memfd_floor.c)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^
