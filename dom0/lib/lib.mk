# SPDX-License-Identifier: MIT
# libsvxen.a: Xen's libxenevtchn, libxengnttab and libxenforeignmemory APIs over the control socket.
# Programs link $(SV_LIBS_A) -pthread and include Debian's <xenevtchn.h>, <xengnttab.h>,
# <xenforeignmemory.h>.
SV_LIBS_SRCS := dom0/lib/svxen.c dom0/lib/evtchn.c dom0/lib/gnttab.c dom0/lib/gnttab_copy.c \
	dom0/lib/foreignmemory.c dom0/svctl.c
SV_LIBS_OBJS := $(call host_objs,$(SV_LIBS_SRCS))
SV_LIBS_A := $(BUILD)/lib/libsvxen.a
# The fake hypervisor control server the unit tests run in a thread (not in the library).
SV_LIBS_FAKEHV_OBJS := $(call host_objs,dom0/lib/fakehv.c)
SV_LIBS_TESTS := $(TESTBIN)/test_xenevtchn $(TESTBIN)/test_xengnttab
UNIT_TESTS += $(SV_LIBS_TESTS)

all: $(SV_LIBS_A)

$(SV_LIBS_A): $(SV_LIBS_OBJS)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(SV_LIBS_TESTS): $(TESTBIN)/%: $(OBJ)/tests/unit/%.o $(SV_LIBS_FAKEHV_OBJS) $(SV_LIBS_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

# svxen-probe: drives the libraries against a running stack for tests/integration/dom0_libs.sh.
SV_LIBS_PROBE := $(TESTBIN)/svxen-probe
all: $(SV_LIBS_PROBE)

$(SV_LIBS_PROBE): $(call host_objs,dom0/lib/svxen_probe.c) $(SV_LIBS_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^
