# SPDX-License-Identifier: MIT
# The hypervisor core daemon, its two engines, and sv-runner (the process engine's guest process).
HV_SRCS := hypervisor/main.c hypervisor/log.c hypervisor/engine.c hypervisor/mem.c \
	hypervisor/domain.c hypervisor/vcpu.c hypervisor/vcpu_pin.c hypervisor/pv.c hypervisor/console.c \
	hypervisor/hypercall.c hypervisor/sched.c hypervisor/ctl.c hypervisor/evtchn.c hypervisor/evtchn_fifo.c hypervisor/tsc.c \
	hypervisor/gnttab.c hypervisor/memop.c hypervisor/mmu.c hypervisor/nmi.c hypervisor/xctl.c hypervisor/xctl_build.c hypervisor/xctl_save.c hypervisor/xctl_cpuid.c \
	hypervisor/pv_emul.c hypervisor/pv_priv.c hypervisor/pv_debugreg.c hypervisor/pv_user.c hypervisor/pv_callback.c hypervisor/pv_desc.c hypervisor/pv_ldt.c hypervisor/physdev.c hypervisor/save.c \
	hypervisor/kvm/kvm_host.c hypervisor/kvm/kvm_engine.c hypervisor/kvm/kvm_mem.c hypervisor/kvm/kvm_sync.c \
	hypervisor/kvm/kvm_pv.c hypervisor/kvm/kvm_ldt.c \
	hypervisor/proc/proc_engine.c hypervisor/proc/proc_spawn.c hypervisor/proc/proc_map.c hypervisor/proc/proc_as.c hypervisor/proc/proc_ldt.c \
	hypervisor/cgroup.c hypervisor/cgroup_hv.c
HV_OBJS := $(call host_objs,$(HV_SRCS))
# The domain table's read side is RCU (liburcu's bulletproof flavour).
HV_LIBS := -lurcu-bp
PROGRAMS += $(BIN)/hypervisor $(BIN)/sv-runner

$(BIN)/hypervisor: $(HV_OBJS) $(SV_COMMON_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS)

# sv-runner: freestanding, static, linked at SV_PROC_RUNNER_VA; never
# sanitized (it runs beside guest code, with no libc and no allocator).
RUNNER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
	-ffreestanding -fno-builtin -fpie -mgeneral-regs-only -mno-red-zone \
	-fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables \
	-Iinclude -MMD -MP
RUNNER_OBJS := $(OBJ)/runner/runner.o $(OBJ)/runner/entry.o

$(OBJ)/runner/runner.o: hypervisor/proc/runner/runner.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (freestanding)"
	$(Q)$(CC) $(RUNNER_CFLAGS) -c $< -o $@

$(OBJ)/runner/entry.o: hypervisor/proc/runner/entry.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(RUNNER_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(BIN)/sv-runner: $(RUNNER_OBJS) hypervisor/proc/runner/runner.lds
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)ld -nostdlib -static -no-pie -z noexecstack --build-id=none \
		-T hypervisor/proc/runner/runner.lds -o $@ $(RUNNER_OBJS)

-include $(RUNNER_OBJS:.o=.d)

# Unit test: the real hypercall sources against a domain with no engine behind it.
# The core without its daemon parts, and libsvcommon.a (hv_log formats its lines there).
HV_TEST_OBJS := $(filter-out $(OBJ)/hypervisor/main.o $(OBJ)/hypervisor/ctl.o,$(HV_OBJS)) $(SV_COMMON_A)
# The suites that need a guest domain get it from tests/unit/hv_harness.c (an engine of fakes).
HV_HARNESS := $(call host_objs,tests/unit/hv_harness.c tests/fakes/hv_fake_engine.c)
UNIT_TESTS += $(TESTBIN)/test_hypercall
$(TESTBIN)/test_hypercall: $(call host_objs,tests/unit/test_hypercall.c) $(HV_HARNESS) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)

# Unit test: sv-runner's seccomp filter, installed in child processes.
UNIT_TESTS += $(TESTBIN)/test_proc_filter
$(TESTBIN)/test_proc_filter: $(call host_objs,tests/unit/test_proc_filter.c)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

# bench/domtable: the domain table's read side under RCU and under its
# lock, one run (here because it links the hypervisor's objects).
BENCHES += $(BUILD)/bench/domtable
$(BUILD)/bench/domtable: $(call host_objs,bench/domtable.c) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS)

# Unit test: cgroup.c's weight/cap mapping and the files it writes, in a temporary tree.
UNIT_TESTS += $(TESTBIN)/test_cgroup
$(TESTBIN)/test_cgroup: $(call host_objs,tests/unit/test_cgroup.c) $(OBJ)/hypervisor/cgroup.o
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)
# Unit test: memory reservations (memop.c) from a hostile guest, same harness idea.
UNIT_TESTS += $(TESTBIN)/test_memop
$(TESTBIN)/test_memop: $(call host_objs,tests/unit/test_memop.c) $(HV_HARNESS) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)
# Unit test: Xen hypercalls from hostile dom0 clients (xctl.c), the test process as the client.
UNIT_TESTS += $(TESTBIN)/test_xctl
$(TESTBIN)/test_xctl: $(call host_objs,tests/unit/test_xctl.c) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)
# Unit test: the PV instruction emulator's decoder and fault emulation, hostile bytes included.
UNIT_TESTS += $(TESTBIN)/test_pv_emul
$(TESTBIN)/test_pv_emul: $(call host_objs,tests/unit/test_pv_emul.c) $(HV_HARNESS) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)
# Unit test: the FIFO event-channel ABI from a hostile guest (evtchn_fifo.c), same harness idea.
UNIT_TESTS += $(TESTBIN)/test_evtchn_fifo
$(TESTBIN)/test_evtchn_fifo: $(call host_objs,tests/unit/test_evtchn_fifo.c) $(HV_HARNESS) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)
# Unit test: page types and the MMU hypercalls (mmu.c) from a hostile guest, same harness idea.
UNIT_TESTS += $(TESTBIN)/test_mmu
$(TESTBIN)/test_mmu: $(call host_objs,tests/unit/test_mmu.c) $(HV_HARNESS) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)
# Unit test: the save and restore ops (save.c) with hostile requests, same harness idea.
UNIT_TESTS += $(TESTBIN)/test_save
$(TESTBIN)/test_save: $(call host_objs,tests/unit/test_save.c) $(HV_HARNESS) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)
# Unit test: the process engine's walk at page 0 (proc_map.c: the low window), same harness idea.
UNIT_TESTS += $(TESTBIN)/test_proc_map
$(TESTBIN)/test_proc_map: $(call host_objs,tests/unit/test_proc_map.c) $(HV_HARNESS) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)
# Unit test: which vCPUs run on the process engine's one address space (proc/proc_as.c).
UNIT_TESTS += $(TESTBIN)/test_proc_as
$(TESTBIN)/test_proc_as: $(call host_objs,tests/unit/test_proc_as.c) $(HV_HARNESS) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)
# Unit test: the guest's LDT in the process engine's runner (proc/proc_ldt.c).
UNIT_TESTS += $(TESTBIN)/test_proc_ldt
$(TESTBIN)/test_proc_ldt: $(call host_objs,tests/unit/test_proc_ldt.c) $(HV_HARNESS) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)
# Unit test: the PV callbacks per vCPU (pv_callback.c) from a hostile two-vCPU guest.
UNIT_TESTS += $(TESTBIN)/test_pv_callbacks
$(TESTBIN)/test_pv_callbacks: $(call host_objs,tests/unit/test_pv_callbacks.c) $(HV_HARNESS) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)
# Unit test: the guest's GDT (pv_desc.c, the seg-desc page type) from a hostile two-vCPU guest.
UNIT_TESTS += $(TESTBIN)/test_pv_gdt
$(TESTBIN)/test_pv_gdt: $(call host_objs,tests/unit/test_pv_gdt.c) $(HV_HARNESS) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)
# Unit test: guest user mode (pv_user.c, pv.c) from a hostile guest, same harness idea.
UNIT_TESTS += $(TESTBIN)/test_usermode
$(TESTBIN)/test_usermode: $(call host_objs,tests/unit/test_usermode.c) $(HV_HARNESS) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HV_LIBS) $(CHECK_LIBS)
