# SPDX-License-Identifier: MIT
# Build rules for splitvisor, the launcher and supervisor of one host stack.

LAUNCHER_SRCS := dom0/splitvisor.c dom0/svc_table.c dom0/svc_rundir.c dom0/svc_status.c \
	dom0/svc_supervise.c dom0/svc_dom0.c dom0/userdata_links.c
LAUNCHER_OBJS := $(call host_objs,$(LAUNCHER_SRCS))

PROGRAMS += $(BIN)/splitvisor

# libsvcommon.a for svd_sock_live (include/sv/daemon.h).
$(BIN)/splitvisor: $(LAUNCHER_OBJS) $(SV_COMMON_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^
