# SPDX-License-Identifier: MIT
# xl, the command tool, with the control-socket client and the PV domain builder.
XL_SRCS := dom0/xl.c dom0/xl_cmds.c dom0/xl_create.c dom0/svctl.c dom0/build_pv.c dom0/xl_xs.c \
	dom0/xl_block.c dom0/xl_net.c
XL_OBJS := $(call host_objs,$(XL_SRCS)) $(DOM0_PARSE_OBJS)
PROGRAMS += $(BIN)/xl

$(BIN)/xl: $(XL_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lxenstore
