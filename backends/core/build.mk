# SPDX-License-Identifier: MIT
# The host backend core (libsvbackend.a, $(BE_CORE_A)): the xenbus backend device model every
# backend daemon is built on, over the typed xenstore helpers of libsvcommon.a (include/sv/svxs.h).
# Backends include its header by name; programs link $(BE_CORE_A) before $(SV_COMMON_A).
BE_CORE_SRCS := backends/core/be_xenbus.c
BE_CORE_OBJS := $(call host_objs,$(BE_CORE_SRCS))

$(OBJ)/backends/%.o: HOST_CFLAGS += -Ibackends/core

all: $(BE_CORE_A)

$(BE_CORE_A): $(BE_CORE_OBJS)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
