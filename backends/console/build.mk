# SPDX-License-Identifier: MIT
# xenconsoled (the console backend) and its Check suites.

CONSOLED_CORE_SRCS := backends/console/cons_buf.c backends/console/cons_ring.c \
	backends/console/cons_proto.c
CONSOLED_DAEMON_SRCS := backends/console/cons_domain.c \
	backends/console/cons_client.c backends/console/cons_xs.c \
	backends/console/cons_dominfo.c \
	backends/console/cons_main.c
CONSOLED_CORE_OBJS := $(call host_objs,$(CONSOLED_CORE_SRCS))
CONSOLED_DAEMON_OBJS := $(call host_objs,$(CONSOLED_DAEMON_SRCS))

PROGRAMS += $(BIN)/xenconsoled

$(BIN)/xenconsoled: $(CONSOLED_DAEMON_OBJS) $(CONSOLED_CORE_OBJS) $(BE_CORE_A) $(SV_COMMON_A) $(SV_LIBS_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lxenstore

# Check suites: the real ring, buffer and protocol sources, no daemon.
CONSOLED_TESTS := test_consoled_ring test_consoled_buf test_consoled_proto test_consoled_rate
UNIT_TESTS += $(addprefix $(TESTBIN)/,$(CONSOLED_TESTS))

$(addprefix $(TESTBIN)/,$(CONSOLED_TESTS)): $(TESTBIN)/%: $(OBJ)/tests/unit/%.o $(CONSOLED_CORE_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

# The data plane and clients against the in-process fake of the Xen libraries
# (tests/fakes/fakexen_libs.c) and an in-memory page.
CONSOLED_PLANE_OBJS := $(call host_objs,backends/console/cons_domain.c \
	backends/console/cons_client.c)
UNIT_TESTS += $(TESTBIN)/test_consoled_domain
$(TESTBIN)/test_consoled_domain: $(OBJ)/tests/unit/test_consoled_domain.o $(CONSOLED_PLANE_OBJS) $(CONSOLED_CORE_OBJS) \
		$(FAKEXEN_LIBS_OBJS) $(SV_COMMON_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)
