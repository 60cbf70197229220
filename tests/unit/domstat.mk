# SPDX-License-Identifier: MIT
# dom0/domstat.c (xl top's and libxenstat's device statistics): blkback's status lines parsed.
$(TESTBIN)/test_domstat: $(call host_objs,tests/unit/test_domstat.c dom0/domstat.c)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS) -lxenstore

UNIT_TESTS += $(TESTBIN)/test_domstat
