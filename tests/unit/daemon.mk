# SPDX-License-Identifier: MIT
# Unit test of the daemon skeleton every daemon starts with (common/svd.c).

$(TESTBIN)/test_daemon: $(OBJ)/tests/unit/test_daemon.o $(OBJ)/common/svd.o
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

UNIT_TESTS += $(TESTBIN)/test_daemon
