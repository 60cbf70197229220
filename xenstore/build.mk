# SPDX-License-Identifier: MIT
# xenstored (the Xen store daemon), its unit tests, fuzz target and benchmark.

XS_CORE_SRCS := xenstore/xs_wire.c xenstore/xs_node.c xenstore/xs_tree.c \
	xenstore/xs_txn.c xenstore/xs_perms.c xenstore/xs_store.c \
	xenstore/xs_watch.c xenstore/xs_quota.c xenstore/xs_domain.c \
	xenstore/xs_conn.c xenstore/xs_ops.c xenstore/xs_control.c \
	xenstore/xs_persist.c xenstore/xs_log.c xenstore/xs_daemon.c \
	xenstore/xs_sock.c
XS_CORE_OBJS := $(call host_objs,$(XS_CORE_SRCS))
XS_MAIN_OBJS := $(call host_objs,xenstore/xs_main.c)

PROGRAMS += $(BIN)/xenstored

$(BIN)/xenstored: $(XS_MAIN_OBJS) $(XS_CORE_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(LIBS)
