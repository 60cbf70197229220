# SPDX-License-Identifier: MIT
# Unit test of blkfront's data plane (frontends/drivers/blkfront_ring.c, blkfront_sync.c),
# the real sources hosted against a fake blkback.  Included from the top Makefile
# (or: make -f Makefile -f tests/unit/blkfront.mk build/tests/test_guest_blk).

BLKFRONT_TEST_SRCS := frontends/drivers/blkfront_ring.c frontends/drivers/blkfront_sync.c \
	frontends/kernel/printk.c frontends/kernel/lib.c tests/unit/test_guest_blk.c
BLKFRONT_TEST_OBJS := $(call host_objs,$(BLKFRONT_TEST_SRCS))
# As the kernel's own hosted tests: its headers, and no libc built-ins for its memcpy & co.
$(BLKFRONT_TEST_OBJS): HOST_CFLAGS += -Ifrontends/include -fno-builtin \
	-fno-tree-loop-distribute-patterns

$(TESTBIN)/test_guest_blk: $(BLKFRONT_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

UNIT_TESTS += $(TESTBIN)/test_guest_blk
