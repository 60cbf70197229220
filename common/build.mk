# SPDX-License-Identifier: MIT
# libsvcommon.a ($(SV_COMMON_A)): what every Splitvisor program on the host shares, whatever part
# it belongs to.  svd.c is the daemon skeleton of all five daemons (include/sv/daemon.h); svxs.c
# and svxs_conn.c the typed xenstore helpers of the backends and xl (include/sv/svxs.h; programs
# that use them link -lxenstore).  Link it after the objects and libraries that use it.
SV_COMMON_SRCS := common/svd.c common/svxs.c common/svxs_conn.c
SV_COMMON_OBJS := $(call host_objs,$(SV_COMMON_SRCS))

all: $(SV_COMMON_A)

$(SV_COMMON_A): $(SV_COMMON_OBJS)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# Check suite: the strict readers, against a one-key fake store (the suite defines the xs_* calls).
UNIT_TESTS += $(TESTBIN)/test_svxs
$(TESTBIN)/test_svxs: $(OBJ)/tests/unit/test_svxs.o $(OBJ)/common/svxs.o
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)
