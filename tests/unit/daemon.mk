# SPDX-License-Identifier: MIT
# Unit test of the daemon skeleton every daemon starts with (backends/common/svd.c).

$(TESTBIN)/test_daemon: $(OBJ)/tests/unit/test_daemon.o $(call host_objs,backends/common/svd.c)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

UNIT_TESTS += $(TESTBIN)/test_daemon
