# SPDX-License-Identifier: MIT
# Build of the PV guest kernel (build/guest/svkernel) and its host-side unit test.

# Freestanding flags of our own: never HOST_CFLAGS, never sanitizers.
GUEST_CC ?= gcc
GUEST_LD ?= ld
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow \
	-Wno-unused-parameter -Wmissing-prototypes -Wstrict-prototypes \
	-ffreestanding -fno-builtin -fno-pic -fno-pie -mcmodel=kernel \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables \
	-fno-omit-frame-pointer -fcf-protection=none \
	-D__XEN_INTERFACE_VERSION__=0x00040e00 \
	-Ifrontends/include -MMD -MP
GUEST_ASFLAGS := $(GUEST_CFLAGS) -D__ASSEMBLY__
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack \
	--build-id=none -T frontends/kernel/svkernel.lds

GUEST_SRCS := \
	frontends/kernel/head.S \
	frontends/kernel/main.c \
	frontends/kernel/commands.c \
	frontends/kernel/cmdline.c \
	frontends/kernel/console.c \
	frontends/kernel/printk.c \
	frontends/kernel/lib.c \
	frontends/kernel/mm.c \
	frontends/kernel/shinfo.c \
	frontends/kernel/time.c \
	frontends/kernel/sched.c \
	frontends/kernel/smp.c

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

$(BUILD)/guest/svkernel: $(GUEST_OBJS) frontends/kernel/svkernel.lds
	@mkdir -p $(dir $@)
	@echo "  GUESTLD $@"
	$(Q)$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS)

GUEST_IMAGES += $(BUILD)/guest/svkernel

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
