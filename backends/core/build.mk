# SPDX-License-Identifier: MIT
# The host backend core (libsvbackend.a, $(BE_CORE_A)): typed xenstore helpers and the xenbus backend device
# model every backend daemon is built on.  Backends include its headers by name.
BE_CORE_SRCS := backends/core/be_store.c backends/core/be_xenbus.c
BE_CORE_OBJS := $(call host_objs,$(BE_CORE_SRCS))

$(OBJ)/backends/%.o: HOST_CFLAGS += -Ibackends/core

all: $(BE_CORE_A)

$(BE_CORE_A): $(BE_CORE_OBJS)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# Check suite: the strict readers, against a one-key fake store (the suite defines the xs_* calls).
UNIT_TESTS += $(TESTBIN)/test_be_store
$(OBJ)/tests/unit/test_be_store.o: HOST_CFLAGS += -Ibackends/core
$(TESTBIN)/test_be_store: $(OBJ)/tests/unit/test_be_store.o $(OBJ)/backends/core/be_store.o
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)
