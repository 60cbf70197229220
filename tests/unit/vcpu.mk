# SPDX-License-Identifier: MIT
# vCPU placement (xl vcpu-list/vcpu-pin/vcpu-set): the CPU-list parser and row format of xl.
# (The hostile client of SV_CTL_VCPU_INFO/PIN, vcpu-ctl-hostile, is in tests/tools/.)

UNIT_TESTS += $(TESTBIN)/test_xl_cpumap
$(TESTBIN)/test_xl_cpumap: $(call host_objs,tests/unit/test_xl_cpumap.c dom0/xl_cpumap.c)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)
