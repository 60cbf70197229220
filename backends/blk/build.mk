# SPDX-License-Identifier: MIT
# blkback (the block backend daemon) and its Check suites.

BLK_CORE_SRCS := backends/blk/blk_disk.c backends/blk/blk_io.c \
	backends/blk/blk_req.c backends/blk/blk_shadow.c backends/blk/blk_grant.c \
	backends/blk/blk_ring.c backends/blk/blk_maps.c
BLK_DAEMON_SRCS := backends/blk/blk_xenbus.c backends/blk/blk_main.c
BLK_CORE_OBJS := $(call host_objs,$(BLK_CORE_SRCS))
BLK_DAEMON_OBJS := $(call host_objs,$(BLK_DAEMON_SRCS))
BLK_LIBS := -luring

PROGRAMS += $(BIN)/blkback

$(BIN)/blkback: $(BLK_DAEMON_OBJS) $(BLK_CORE_OBJS) $(BE_CORE_A) $(SV_COMMON_A) $(SV_LIBS_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lxenstore $(BLK_LIBS)

# Check suites: the real sources; test_blk_ring links the in-process fake of the Xen libraries
# (tests/fakes/fakexen_libs.c) instead of libsvxen.a.
BLK_REQ_TEST_OBJS := $(call host_objs,backends/blk/blk_req.c) $(SV_COMMON_A)
UNIT_TESTS += $(TESTBIN)/test_blk_req $(TESTBIN)/test_blk_ring

$(TESTBIN)/test_blk_req: $(OBJ)/tests/unit/test_blk_req.o $(BLK_REQ_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

BLK_FAKEXEN_OBJS := $(FAKEXEN_LIBS_OBJS)

$(TESTBIN)/test_blk_ring: $(OBJ)/tests/unit/test_blk_ring.o $(BLK_FAKEXEN_OBJS) $(BLK_CORE_OBJS) $(SV_COMMON_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(BLK_LIBS) $(CHECK_LIBS)

# blk_bench (bench/blk_bench.c): the data plane alone under a zero-cost frontend (bench/blk.sh
# compares it with fio); here because it links blkback's objects.
BENCHES += $(BUILD)/bench/blk_bench
$(OBJ)/bench/blk_bench.o: HOST_CFLAGS += -Ibackends/blk -Ibackends/core -Itests/fakes
$(BUILD)/bench/blk_bench: $(call host_objs,bench/blk_bench.c) $(BLK_FAKEXEN_OBJS) $(BLK_CORE_OBJS) $(SV_COMMON_A)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(BLK_LIBS)
