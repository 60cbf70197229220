# SPDX-License-Identifier: MIT
# Test tools: programs only the integration tests (tests/integration/*.sh) run.  Included
# after every product fragment (top Makefile), so the product objects are named by variable.
# Binary names and places are what the scripts call: $(BIN)/ (on the scripts' PATH) or
# $(TESTBIN)/.

TEST_TOOLS := $(TESTBIN)/blk_fakefront $(TESTBIN)/svxen-probe $(TESTBIN)/guest-peer \
	$(TESTBIN)/vcpu-ctl-hostile $(TESTBIN)/domain-resume $(TESTBIN)/savefile-corrupt \
	$(TESTBIN)/kernel-unpack \
	$(BIN)/xenconsoled-probe \
	$(BIN)/xs-client
all: $(TEST_TOOLS)

# Tools include product headers by name.
$(OBJ)/tests/tools/blk_fakefront.o: HOST_CFLAGS += -Ibackends/blk -Ibackends/core
$(OBJ)/tests/tools/xenconsoled_probe.o: HOST_CFLAGS += -Ibackends/console
$(OBJ)/tests/tools/xs_client.o $(OBJ)/tests/tools/xs_client_raw.o: HOST_CFLAGS += -Ixenstore

# blk_fakefront: a blkfront played from dom0 (tests/integration/blk_backend.sh).
$(TESTBIN)/blk_fakefront: $(call host_objs,tests/tools/blk_fakefront.c) $(SV_LIBS_A)
# svxen-probe: drives libsvxen against a running stack (dom0_libs.sh, net_backend.sh).
$(TESTBIN)/svxen-probe: $(call host_objs,tests/tools/svxen_probe.c) $(SV_LIBS_A)
# guest-peer: dom0's half of evtchn-pingpong on the real stack (guest_xen.sh).
$(TESTBIN)/guest-peer: $(call host_objs,tests/tools/guest_peer.c) $(SV_LIBS_A)
# vcpu-ctl-hostile: a hostile client of SV_CTL_VCPU_INFO/PIN (xl_vcpu.sh).
$(TESTBIN)/vcpu-ctl-hostile: $(call host_objs,tests/tools/vcpu_ctl_hostile.c) $(SV_LIBS_A)
# domain-resume: a toolstack's resume of a suspended domain (pv_suspend.sh).
$(TESTBIN)/domain-resume: $(call host_objs,tests/tools/domain_resume.c) $(SV_LIBS_A)
# savefile-corrupt: hostile copies of a real checkpoint file (xl_save.sh).
$(TESTBIN)/savefile-corrupt: $(call host_objs,tests/tools/savefile_corrupt.c)
# kernel-unpack: the ELF inside Debian's bzImage, for PV GRUB (tests/linux_lib.sh, linux_pv.sh).
$(TESTBIN)/kernel-unpack: $(call host_objs,tests/tools/kernel_unpack.c dom0/elf.c dom0/elf_gz.c \
	dom0/elf_unpack.c)
# xenconsoled-probe: scripted console client (console_daemon.sh; docs/xenconsoled.md).
$(BIN)/xenconsoled-probe: $(call host_objs,tests/tools/xenconsoled_probe.c) $(SV_LIBS_A)
# xs-client: libxenstore client and raw-protocol modes (xenstore_*.sh; docs/xenstored.md).
$(BIN)/xs-client: $(call host_objs,tests/tools/xs_client.c tests/tools/xs_client_raw.c \
	xenstore/xs_wire.c)

# Only the tools on libxenstore link it.
$(TESTBIN)/blk_fakefront $(BIN)/xenconsoled-probe $(BIN)/xs-client: TOOL_LIBS := -lxenstore
# kernel-unpack decompresses as xl does.
$(TESTBIN)/kernel-unpack: TOOL_LIBS := $(UNPACK_LIBS)

$(TEST_TOOLS):
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(TOOL_LIBS)
