# SPDX-License-Identifier: MIT
# Build of the PV guest kernel (build/guest/svkernel) and its host-side unit test.

# Freestanding flags of our own: never HOST_CFLAGS, never sanitizers.
GUEST_CC ?= gcc
GUEST_LD ?= ld
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow \
	-Wno-unused-parameter -Wmissing-prototypes -Wstrict-prototypes \
	-ffreestanding -fno-builtin -fno-pic -fno-pie -mcmodel=small \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables \
	-fno-omit-frame-pointer -fcf-protection=none \
	-D__XEN_INTERFACE_VERSION__=0x00040e00 \
	-Ifrontends/include -MMD -MP
GUEST_ASFLAGS := $(GUEST_CFLAGS) -D__ASSEMBLY__
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack \
	--build-id=none

GUEST_SRCS := \
	frontends/kernel/head.S \
	frontends/kernel/main.c \
	frontends/kernel/traps.c \
	frontends/kernel/privops.c frontends/kernel/gdtword.c frontends/kernel/ldtword.c \
	frontends/kernel/segload.c \
	frontends/kernel/pagetables.c \
	frontends/kernel/usermode.c frontends/kernel/usermode_smp.c \
	frontends/kernel/commands.c \
	frontends/kernel/cmdline.c \
	frontends/kernel/console.c \
	frontends/kernel/printk.c \
	frontends/kernel/lib.c \
	frontends/kernel/mm.c \
	frontends/kernel/balloon.c \
	frontends/kernel/shinfo.c \
	frontends/kernel/time.c \
	frontends/kernel/sched.c \
	frontends/kernel/smp.c \
	frontends/kernel/cpuhotplug.c \
	frontends/kernel/events.c \
	frontends/kernel/evtchn_abi.c \
	frontends/kernel/evtchn_smp.c \
	frontends/kernel/kickstress.c \
	frontends/kernel/tscword.c \
	frontends/kernel/m2p.c \
	frontends/kernel/wait.c \
	frontends/kernel/gnttab.c \
	frontends/kernel/xenbus.c \
	frontends/kernel/xenbus_state.c \
	frontends/kernel/control.c \
	frontends/kernel/suspend.c \
	frontends/kernel/sysrq.c \
	frontends/kernel/nmi.c \
	frontends/kernel/selftests.c \
	frontends/kernel/hostile.c
# Drivers in folders of their own (blkfront, netfront and its IPv4 stack).
GUEST_SRCS += $(sort $(wildcard frontends/drivers/*.c frontends/net/*.c))

GUEST_OBJDIR := $(BUILD)/guest-obj
GUEST_OBJS := $(patsubst frontends/%,$(GUEST_OBJDIR)/%.o,$(GUEST_SRCS))

$(GUEST_OBJDIR)/%.c.o: frontends/%.c
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OBJDIR)/%.S.o: frontends/%.S
	@mkdir -p $(dir $@)
	@echo "  GUESTAS $<"
	$(Q)$(GUEST_CC) $(GUEST_ASFLAGS) -c $< -o $@

$(GUEST_OBJDIR)/svkernel.lds: frontends/kernel/svkernel.lds.S
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -E -P -undef -x c $< -o $@

$(BUILD)/guest/svkernel: $(GUEST_OBJS) $(GUEST_OBJDIR)/svkernel.lds
	@mkdir -p $(dir $@)
	@echo "  GUESTLD $@"
	$(Q)$(GUEST_LD) $(GUEST_LDFLAGS) -T $(GUEST_OBJDIR)/svkernel.lds \
		-o $@ $(GUEST_OBJS)

GUEST_IMAGES += $(BUILD)/guest/svkernel

# The same kernel linked at 1 GiB instead of VIRT_BASE, so the host test
# (tests/unit/test_guest_boot.c) can load it into a process and boot it
# against a fake hypervisor.  Same sources, same flags but the code model.
GUEST_HOSTED_BASE := 0x40000000
GUEST_HOSTED_CFLAGS := $(filter-out -mcmodel=kernel,$(GUEST_CFLAGS)) \
	-mcmodel=small -DSVK_VIRT_BASE=$(GUEST_HOSTED_BASE)
GUEST_HOSTED_OBJDIR := $(BUILD)/guest-hosted-obj
GUEST_HOSTED_OBJS := $(patsubst frontends/%,$(GUEST_HOSTED_OBJDIR)/%.o,$(GUEST_SRCS))

$(GUEST_HOSTED_OBJDIR)/%.c.o: frontends/%.c
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $< (hosted)"
	$(Q)$(GUEST_CC) $(GUEST_HOSTED_CFLAGS) -c $< -o $@

$(GUEST_HOSTED_OBJDIR)/%.S.o: frontends/%.S
	@mkdir -p $(dir $@)
	@echo "  GUESTAS $< (hosted)"
	$(Q)$(GUEST_CC) $(GUEST_HOSTED_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(GUEST_HOSTED_OBJDIR)/svkernel.lds: frontends/kernel/svkernel.lds.S
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) -E -P -undef -x c -DSVK_VIRT_BASE=$(GUEST_HOSTED_BASE) $< -o $@

$(BUILD)/guest/svkernel-hosted: $(GUEST_HOSTED_OBJS) $(GUEST_HOSTED_OBJDIR)/svkernel.lds
	@mkdir -p $(dir $@)
	@echo "  GUESTLD $@"
	$(Q)$(GUEST_LD) $(GUEST_LDFLAGS) -T $(GUEST_HOSTED_OBJDIR)/svkernel.lds \
		-o $@ $(GUEST_HOSTED_OBJS)

# Host-side unit test: the real printk/lib/cmdline sources, hosted.
GUEST_TEST_SRCS := frontends/kernel/printk.c frontends/kernel/lib.c \
	frontends/kernel/cmdline.c tests/unit/test_guest_printk.c
GUEST_TEST_OBJS := $(call host_objs,$(GUEST_TEST_SRCS))
$(GUEST_TEST_OBJS): HOST_CFLAGS += -Ifrontends/include -fno-builtin \
	-fno-tree-loop-distribute-patterns

$(TESTBIN)/test_guest_printk: $(GUEST_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

UNIT_TESTS += $(TESTBIN)/test_guest_printk

# Host-side boot test: loads svkernel-hosted into a child process and plays
# the PV domain builder and hypervisor for it.
GUEST_BOOT_TEST_OBJS := $(call host_objs,tests/unit/test_guest_boot.c \
	tests/unit/test_guest_xen.c tests/fakes/fakexen_guest.c)

$(TESTBIN)/test_guest_boot: $(GUEST_BOOT_TEST_OBJS) $(BUILD)/guest/svkernel-hosted
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $(GUEST_BOOT_TEST_OBJS) $(CHECK_LIBS)

UNIT_TESTS += $(TESTBIN)/test_guest_boot
