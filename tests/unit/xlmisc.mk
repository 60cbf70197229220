# SPDX-License-Identifier: MIT
# Unit tests of xl's small commands: the hypervisor's log ring (hypervisor/log.c)
# and the uptime and top formats (dom0/xl_format.c), the real sources alone.

$(TESTBIN)/test_hv_logring: $(call host_objs,tests/unit/test_hv_logring.c hypervisor/log.c) \
		$(SV_COMMON_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(TESTBIN)/test_xl_format: $(call host_objs,tests/unit/test_xl_format.c dom0/xl_format.c)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

UNIT_TESTS += $(TESTBIN)/test_hv_logring $(TESTBIN)/test_xl_format
