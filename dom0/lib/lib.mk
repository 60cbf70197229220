# SPDX-License-Identifier: MIT
# libsvxen.a ($(SV_LIBS_A)): Xen's libxenevtchn, libxengnttab and libxenforeignmemory APIs over
# the control socket, and that socket's client (svctl.c, include/sv/svctl.h), built once for
# every program.  Programs link $(SV_LIBS_A) -pthread and include Debian's <xenevtchn.h>,
# <xengnttab.h>, <xenforeignmemory.h>, or "sv/svctl.h".
SV_LIBS_SRCS := dom0/lib/svxen.c dom0/lib/evtchn.c dom0/lib/gnttab.c dom0/lib/gnttab_copy.c \
	dom0/lib/foreignmemory.c dom0/lib/xencall.c dom0/lib/devicemodel.c dom0/lib/svctl.c
SV_LIBS_OBJS := $(call host_objs,$(SV_LIBS_SRCS))
# The fake hypervisor control server the unit tests run in a thread (tests/fakes/).
SV_LIBS_FAKEHV_OBJS := $(FAKEHV_OBJS)
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

# The same sources as shared libraries with Xen's sonames and version nodes
# (dom0/lib/xen/*.map: only Xen's symbols are exported), for Debian's own
# libxenctrl and tools: LD_LIBRARY_PATH=$(BUILD)/lib/xen.  Never sanitized:
# they load into Debian's unsanitized programs.
SV_XEN_SO_DIR := $(BUILD)/lib/xen
SV_XEN_SO_COMMON := dom0/lib/svxen.c dom0/lib/svctl.c
SV_XEN_SOS := $(addprefix $(SV_XEN_SO_DIR)/,libxencall.so.1 libxenevtchn.so.1 libxengnttab.so.1 \
	libxenforeignmemory.so.1 libxendevicemodel.so.1 libxentoolcore.so.1)
pic_objs = $(patsubst %.c,$(OBJ)/pic/%.o,$(1))
all: $(SV_XEN_SOS)

$(OBJ)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (shared)"
	$(Q)$(CC) $(CFLAGS_COMMON) -fPIC -fvisibility=default -pthread $(EXTRA_CFLAGS) -c $< -o $@

$(SV_XEN_SO_DIR)/libxencall.so.1: $(call pic_objs,dom0/lib/xencall.c $(SV_XEN_SO_COMMON))
$(SV_XEN_SO_DIR)/libxenevtchn.so.1: $(call pic_objs,dom0/lib/evtchn.c $(SV_XEN_SO_COMMON))
$(SV_XEN_SO_DIR)/libxengnttab.so.1: $(call pic_objs,dom0/lib/gnttab.c dom0/lib/gnttab_copy.c \
	$(SV_XEN_SO_COMMON))
$(SV_XEN_SO_DIR)/libxenforeignmemory.so.1: $(call pic_objs,dom0/lib/foreignmemory.c \
	$(SV_XEN_SO_COMMON))
$(SV_XEN_SO_DIR)/libxendevicemodel.so.1: $(call pic_objs,dom0/lib/devicemodel.c)
$(SV_XEN_SO_DIR)/libxentoolcore.so.1: $(call pic_objs,dom0/lib/toolcore.c)
$(SV_XEN_SOS): $(SV_XEN_SO_DIR)/%.so.1: dom0/lib/xen/%.map
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) -shared -pthread -Wl,-soname,$(notdir $@) -Wl,--version-script=dom0/lib/xen/$*.map \
		-Wl,-z,defs -o $@ $(filter %.o,$^)

# libxenstat.so.4.17 (Debian's xentop's): the same facts as `xl top`, through
# dom0/domstat.c (shared with xl_top.c), the control socket and libxenstore.
SV_XENSTAT_SO := $(SV_XEN_SO_DIR)/libxenstat.so.4.17
all: $(SV_XENSTAT_SO)

$(SV_XENSTAT_SO): $(call pic_objs,dom0/lib/xenstat.c dom0/domstat.c dom0/lib/svctl.c) \
		dom0/lib/xen/libxenstat.map
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) -shared -pthread -Wl,-soname,$(notdir $@) -Wl,--version-script=dom0/lib/xen/libxenstat.map \
		-Wl,-z,defs -o $@ $(filter %.o,$^) -lxenstore
