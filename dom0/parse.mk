# SPDX-License-Identifier: MIT
# The toolstack's pure parsers (config file, device specs, ELF kernels)
# and their Check unit tests.  Included from dom0/build.mk; programs that
# use the parsers link $(DOM0_PARSE_OBJS).

# What dom0/elf_gz.c and dom0/elf_unpack.c decompress kernels with.
UNPACK_LIBS := -lz -llzma -lbz2 -llz4 -lzstd

DOM0_PARSE_SRCS := dom0/config.c dom0/config_syntax.c dom0/devspec.c dom0/elf.c
DOM0_PARSE_OBJS := $(call host_objs,$(DOM0_PARSE_SRCS))

DOM0_PARSE_TESTS := $(TESTBIN)/test_config $(TESTBIN)/test_devspec $(TESTBIN)/test_elf \
	$(TESTBIN)/test_elf_unpack
UNIT_TESTS += $(DOM0_PARSE_TESTS)

$(TESTBIN)/test_config: $(call host_objs,tests/unit/test_config.c dom0/config.c dom0/config_syntax.c dom0/devspec.c)
$(TESTBIN)/test_devspec: $(call host_objs,tests/unit/test_devspec.c dom0/devspec.c)
$(TESTBIN)/test_elf: $(call host_objs,tests/unit/test_elf.c dom0/elf.c dom0/elf_gz.c dom0/elf_unpack.c dom0/build_layout.c)
$(TESTBIN)/test_elf: CHECK_LIBS += $(UNPACK_LIBS)
$(TESTBIN)/test_elf_unpack: $(call host_objs,tests/unit/test_elf_unpack.c dom0/elf.c dom0/elf_gz.c dom0/elf_unpack.c)
$(TESTBIN)/test_elf_unpack: CHECK_LIBS += $(UNPACK_LIBS)

$(DOM0_PARSE_TESTS):
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(CHECK_LIBS)
