# SPDX-License-Identifier: MIT
# The hypervisor core daemon.
HV_SRCS := hypervisor/main.c hypervisor/log.c hypervisor/kvm.c hypervisor/mem.c \
	hypervisor/domain.c hypervisor/vcpu.c hypervisor/pv.c hypervisor/console.c \
	hypervisor/hypercall.c hypervisor/sched.c hypervisor/ctl.c hypervisor/evtchn.c \
	hypervisor/gnttab.c
HV_OBJS := $(call host_objs,$(HV_SRCS))
PROGRAMS += $(BIN)/hypervisor

$(BIN)/hypervisor: $(HV_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^

# Unit test: the real hypercall sources against a domain with no KVM behind it.
HV_TEST_OBJS := $(filter-out $(OBJ)/hypervisor/main.o $(OBJ)/hypervisor/ctl.o,$(HV_OBJS))
UNIT_TESTS += $(TESTBIN)/test_hypercall
$(TESTBIN)/test_hypercall: $(call host_objs,tests/unit/test_hypercall.c) $(HV_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)
