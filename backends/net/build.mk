# SPDX-License-Identifier: MIT
# netback (the network backend: netif rings <-> TAP devices in bridges) and its Check suites.

NETBACK_NL_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null || echo -I/usr/include/libnl3)
NETBACK_NL_LIBS := $(shell pkg-config --libs libnl-route-3.0 2>/dev/null || echo -lnl-route-3 -lnl-3)
# The data plane and its pure helpers: what the unit tests link.
NETBACK_CORE_SRCS := backends/net/nb_tx.c backends/net/nb_rx.c backends/net/nb_queue.c \
	backends/net/nb_csum.c backends/net/nb_credit.c \
	backends/net/nb_tap.c
NETBACK_DAEMON_SRCS := backends/net/nb_main.c backends/net/nb_xenbus.c backends/net/nb_link.c
NETBACK_CORE_OBJS := $(call host_objs,$(NETBACK_CORE_SRCS))
NETBACK_DAEMON_OBJS := $(call host_objs,$(NETBACK_DAEMON_SRCS))

# libnl's headers only where libnl is used.
$(OBJ)/backends/net/nb_link.o: HOST_CFLAGS += $(NETBACK_NL_CFLAGS)

PROGRAMS += $(BIN)/netback

$(BIN)/netback: $(NETBACK_DAEMON_OBJS) $(NETBACK_CORE_OBJS) $(BE_CORE_A) $(SV_COMMON_A) $(SV_LIBS_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lxenstore $(NETBACK_NL_LIBS)

# Check suites: the real data plane against the fake hypervisor; pure helpers alone.
NETBACK_TESTS := test_net_csum test_net_credit test_net_tx test_net_rx test_net_tap
UNIT_TESTS += $(addprefix $(TESTBIN)/,$(NETBACK_TESTS))

$(addprefix $(TESTBIN)/,$(NETBACK_TESTS)): $(TESTBIN)/%: $(OBJ)/tests/unit/%.o $(NETBACK_CORE_OBJS) \
		$(OBJ)/tests/unit/net_harness.o $(FAKEHV_OBJS) $(SV_COMMON_A) $(SV_LIBS_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

# net_bench (bench/net_bench.c): UDP rates over veth, and through the data plane with a fake
# guest (bench/net.sh); here because it links netback's objects.
BENCHES += $(BUILD)/bench/net_bench
$(OBJ)/bench/net_bench.o: HOST_CFLAGS += -Ibackends/net -Ibackends/core -Itests/fakes
$(BUILD)/bench/net_bench: $(call host_objs,bench/net_bench.c) $(NETBACK_CORE_OBJS) \
		$(FAKEHV_OBJS) $(SV_COMMON_A) $(SV_LIBS_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^

# The control plane against a fake store (the suite defines the xs_* it uses) and the fake hypervisor.
UNIT_TESTS += $(TESTBIN)/test_net_xenbus
$(TESTBIN)/test_net_xenbus: $(OBJ)/tests/unit/test_net_xenbus.o $(OBJ)/backends/net/nb_xenbus.o \
		$(OBJ)/backends/net/nb_link.o $(NETBACK_CORE_OBJS) $(OBJ)/tests/unit/net_harness.o \
		$(FAKEHV_OBJS) $(BE_CORE_A) $(SV_COMMON_A) $(SV_LIBS_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(NETBACK_NL_LIBS) $(CHECK_LIBS)

# The control-plane suite includes netback's headers, which include the backend core's.
$(OBJ)/tests/unit/test_net_xenbus.o: HOST_CFLAGS += -Ibackends/core
