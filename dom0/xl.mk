# SPDX-License-Identifier: MIT
# xl, the command tool, with the PV domain builder.
XL_SRCS := dom0/xl.c dom0/xl_cmds.c dom0/xl_list.c dom0/xl_create.c dom0/build_pv.c dom0/build_layout.c \
	dom0/xl_domnodes.c dom0/xl_block.c dom0/xl_net.c \
	dom0/xl_vcpu.c dom0/xl_cpumap.c dom0/xl_sched.c dom0/xl_mem.c \
	dom0/xl_misc.c dom0/xl_top.c dom0/xl_format.c dom0/domstat.c \
	dom0/xl_userdata.c dom0/userdata_links.c \
	dom0/xl_cfgrec.c dom0/xl_save.c dom0/xl_restore.c
XL_OBJS := $(call host_objs,$(XL_SRCS)) $(DOM0_PARSE_OBJS) $(call host_objs,dom0/elf_gz.c dom0/elf_unpack.c)
PROGRAMS += $(BIN)/xl
# The progress line of long waits, and where an installed xl finds the bundled kernel.
XL_OBJS += $(call host_objs,dom0/xl_progress.c dom0/xl_boot.c)

# json-c (`xl list -l`) is used by xl_list.c alone.
JSONC_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)
JSONC_LIBS := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
$(OBJ)/dom0/xl_list.o $(OBJ)/dom0/xl_userdata.o: HOST_CFLAGS += $(JSONC_CFLAGS)

# libsvcommon.a for the typed xenstore helpers (include/sv/svxs.h), libsvxen.a for the
# control-socket client (svctl.c).
$(BIN)/xl: $(XL_OBJS) $(SV_COMMON_A) $(SV_LIBS_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lxenstore $(JSONC_LIBS) $(UNPACK_LIBS)
