# SPDX-License-Identifier: MIT
# Unit test of the guest's IPv4 stack (frontends/net/), the real sources hosted.
# Included from the top Makefile (or: make -f Makefile -f tests/unit/netfront.mk ...).

NETFRONT_STACK_SRCS := $(sort $(wildcard frontends/net/*.c))
NETFRONT_TEST_OBJS := $(call host_objs,$(NETFRONT_STACK_SRCS) tests/unit/test_guest_net.c)
# As the kernel's own hosted test: its headers, and no libc built-ins for its memcpy & co.
$(NETFRONT_TEST_OBJS): HOST_CFLAGS += -Ifrontends/include -fno-builtin \
	-fno-tree-loop-distribute-patterns

$(TESTBIN)/test_guest_net: $(NETFRONT_TEST_OBJS) $(call host_objs,frontends/kernel/printk.c \
		frontends/kernel/lib.c)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

UNIT_TESTS += $(TESTBIN)/test_guest_net

# netfront's data plane against the test playing netback (and a hostile one).
NETFRONT_RING_TEST_OBJS := $(call host_objs,frontends/drivers/netfront_ring.c \
	tests/unit/test_guest_netfront.c)
$(NETFRONT_RING_TEST_OBJS): HOST_CFLAGS += -Ifrontends/include -fno-builtin \
	-fno-tree-loop-distribute-patterns

$(TESTBIN)/test_guest_netfront: $(NETFRONT_RING_TEST_OBJS) \
		$(call host_objs,$(NETFRONT_STACK_SRCS) frontends/kernel/printk.c \
		frontends/kernel/lib.c)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

UNIT_TESTS += $(TESTBIN)/test_guest_netfront
