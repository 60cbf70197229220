# SPDX-License-Identifier: MIT
# Splitvisor: one Makefile, explicit source lists in per-folder build.mk files.
#
#   make            build everything into build/ (build/san/ with SANITIZE=1)
#   make deps       install the Debian packages the build and tests need
#   make test       deps + build + every test (unit and integration)
#   make demo       deps + build + boot the bundled PV guest and show its console
#   make bench      deps + build + benchmarks (ratios against same-run baselines)
#   make install    programs, guest kernel, man pages, completion, systemd unit
#                   into $(DESTDIR)$(PREFIX) (default /usr/local); make uninstall
#                   (dist/install.mk)

SHELL := /bin/bash
V ?= 0
ifeq ($(V),0)
Q := @
else
Q :=
endif

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SAN_FLAGS :=
endif

CC ?= cc
BIN := $(BUILD)/bin
OBJ := $(BUILD)/obj
TESTBIN := $(BUILD)/tests

# Hosted code (hypervisor, dom0, xenstore, backends, tests).
CFLAGS_COMMON := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-Wmissing-prototypes -Wstrict-prototypes -Wformat=2 -D_GNU_SOURCE \
	-Iinclude -D__XEN_TOOLS__ -MMD -MP
HOST_CFLAGS := $(CFLAGS_COMMON) -pthread $(SAN_FLAGS) $(EXTRA_CFLAGS)
HOST_LDFLAGS := -pthread $(SAN_FLAGS)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)

# The project's libraries, named here so any fragment may link them whatever the include
# order: libsvxen.a (dom0/lib/lib.mk: Xen's dom0 library APIs and the control-socket client,
# include/sv/svctl.h), libsvbackend.a (backends/core/build.mk) and libsvcommon.a
# (common/build.mk: the daemon skeleton and the typed xenstore helpers).
SV_LIBS_A := $(BUILD)/lib/libsvxen.a
BE_CORE_A := $(BUILD)/lib/libsvbackend.a
SV_COMMON_A := $(BUILD)/lib/libsvcommon.a
# The fake hypervisor (tests/fakes/fakexen_core.c) behind its two front doors: the control
# socket (fakehv.c, for suites on the real libsvxen.a) and dom0's Xen libraries in-process
# (fakexen_libs.c, linked instead of libsvxen.a).
FAKEHV_OBJS := $(OBJ)/tests/fakes/fakehv.o $(OBJ)/tests/fakes/fakexen_core.o
FAKEXEN_LIBS_OBJS := $(OBJ)/tests/fakes/fakexen_libs.o $(OBJ)/tests/fakes/fakexen_core.o

# Everything a build.mk adds to.
PROGRAMS :=
UNIT_TESTS :=
GUEST_IMAGES :=
BENCHES :=

.PHONY: all deps test demo bench clean check-tools
all:

# $(call host_objs,SRCS): object paths for hosted sources.
host_objs = $(patsubst %.c,$(OBJ)/%.o,$(1))

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HOST_CFLAGS) -c $< -o $@

include $(sort $(wildcard */build.mk))
# Test suites and tools last: their rules name the product objects by variable.
include $(sort $(wildcard tests/unit/*.mk tests/*/build.mk))
include dist/install.mk

all: $(PROGRAMS) $(GUEST_IMAGES) $(UNIT_TESTS) $(BENCHES)

deps:
	$(Q)scripts/deps.sh
	$(Q)scripts/fetch_linux.sh >/dev/null

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/run.sh $(UNIT_TESTS)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) bench/run.sh

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
