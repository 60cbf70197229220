# SPDX-License-Identifier: MIT
# The hypervisor core daemon.
HV_SRCS := hypervisor/main.c hypervisor/log.c hypervisor/kvm.c hypervisor/mem.c \
	hypervisor/domain.c hypervisor/vcpu.c hypervisor/pv.c hypervisor/console.c \
	hypervisor/hypercall.c hypervisor/sched.c hypervisor/ctl.c
HV_OBJS := $(call host_objs,$(HV_SRCS))
PROGRAMS += $(BIN)/hypervisor

$(BIN)/hypervisor: $(HV_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^
