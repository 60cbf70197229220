# SPDX-License-Identifier: MIT
# vCPU placement (xl vcpu-list/vcpu-pin/vcpu-set): the CPU-list parser and row format of xl,
# and a hostile client of the hypervisor's SV_CTL_VCPU_INFO/PIN for tests/integration/xl_vcpu.sh.

UNIT_TESTS += $(TESTBIN)/test_xl_cpumap
$(TESTBIN)/test_xl_cpumap: $(call host_objs,tests/unit/test_xl_cpumap.c dom0/xl_cpumap.c)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

VCPU_CTL_HOSTILE := $(TESTBIN)/vcpu-ctl-hostile
all: $(VCPU_CTL_HOSTILE)
$(VCPU_CTL_HOSTILE): $(call host_objs,tests/unit/vcpu_ctl_hostile.c dom0/svctl.c)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^
