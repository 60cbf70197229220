# SPDX-License-Identifier: MIT
# `make install` / `make uninstall`: the programs, guest kernel, manual pages, completion,
# systemd unit and docs, laid out as Debian lays out a package (see README.md, "Installing").
#
#   make install [PREFIX=/usr/local] [DESTDIR=]
#
# PREFIX/sbin/{xl,splitvisor}              commands (Xen's Debian package has xl in /usr/sbin)
# PREFIX/lib/splitvisor/                   the services splitvisor runs, and sv-runner
# PREFIX/lib/splitvisor/boot/svkernel      the bundled PV guest kernel
# PREFIX/lib/MULTIARCH/libsvxen.a          Xen's dom0 library APIs (headers: Debian's libxen-dev)
# PREFIX/lib/splitvisor/xen/*.so.1         the same with Xen's sonames, for Debian's Xen tools
# PREFIX/share/man/man{1,5,8}/             xl(1), xl.cfg(5), splitvisor(8), xenstored(8), ...
# PREFIX/share/bash-completion/completions/{xl,splitvisor}
# PREFIX/share/doc/splitvisor/             README.md, docs/*.md; examples/*.cfg under examples/
# SYSTEMDUNITDIR/splitvisor.service        /lib/systemd/system when PREFIX=/usr, else PREFIX/lib/systemd/system
#
# The installed programs find each other relative to their own folder
# (splitvisor: SVC_INSTALLED_BINDIR in dom0/svc.h; xl: XL_BOOT_DIR_INSTALLED in
# dom0/xl_boot.h), so a tree installed under DESTDIR runs where it is.

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR := $(PREFIX)/sbin
PKGLIBDIR := $(PREFIX)/lib/splitvisor
BOOTDIR := $(PKGLIBDIR)/boot
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
LIBDIR := $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
MANDIR := $(PREFIX)/share/man
BASHCOMPDIR := $(PREFIX)/share/bash-completion/completions
DOCDIR := $(PREFIX)/share/doc/splitvisor
ifeq ($(PREFIX),/usr)
SYSTEMDUNITDIR ?= /lib/systemd/system
else
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
endif

INSTALL_SBIN := splitvisor xl
INSTALL_PKGLIB := hypervisor sv-runner xenstored xenconsoled blkback netback
INSTALL_DOCS := README.md $(filter-out docs/%.lua docs/%.mk,$(wildcard docs/*.md))
INSTALL_EXAMPLES := $(wildcard examples/*.cfg)
INSTALL_COMPLETIONS := xl splitvisor

INSTALL_BUILT := $(addprefix $(BIN)/,$(INSTALL_SBIN) $(INSTALL_PKGLIB)) \
	$(BUILD)/guest/svkernel $(SV_LIBS_A) $(SV_XEN_SOS) $(MANPAGES)

.PHONY: install uninstall
install: $(INSTALL_BUILT)
	@echo "  INSTALL $(DESTDIR)$(PREFIX)"
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(BOOTDIR) \
		$(DESTDIR)$(PKGLIBDIR)/xen \
		$(DESTDIR)$(LIBDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	$(Q)install -m 0755 $(addprefix $(BIN)/,$(INSTALL_SBIN)) $(DESTDIR)$(SBINDIR)/
	$(Q)install -m 0755 $(addprefix $(BIN)/,$(INSTALL_PKGLIB)) $(DESTDIR)$(PKGLIBDIR)/
	$(Q)install -m 0644 $(BUILD)/guest/svkernel $(DESTDIR)$(BOOTDIR)/
	$(Q)install -m 0644 $(SV_LIBS_A) $(DESTDIR)$(LIBDIR)/
	$(Q)install -m 0644 $(SV_XEN_SOS) $(DESTDIR)$(PKGLIBDIR)/xen/
	$(Q)install -m 0644 $(MAN_DIR)/man1/*.1 $(DESTDIR)$(MANDIR)/man1/
	$(Q)install -m 0644 $(MAN_DIR)/man5/*.5 $(DESTDIR)$(MANDIR)/man5/
	$(Q)install -m 0644 $(MAN_DIR)/man8/*.8 $(DESTDIR)$(MANDIR)/man8/
	$(Q)install -m 0644 $(addprefix dist/bash-completion/,$(INSTALL_COMPLETIONS)) \
		$(DESTDIR)$(BASHCOMPDIR)/
	$(Q)install -m 0644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)/
	$(Q)install -m 0644 $(INSTALL_EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' dist/systemd/splitvisor.service.in \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/splitvisor.service
	$(Q)chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/splitvisor.service

uninstall:
	@echo "  UNINST  $(DESTDIR)$(PREFIX)"
	$(Q)rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(INSTALL_SBIN)) \
		$(addprefix $(DESTDIR)$(PKGLIBDIR)/,$(INSTALL_PKGLIB)) \
		$(DESTDIR)$(BOOTDIR)/svkernel $(DESTDIR)$(LIBDIR)/libsvxen.a \
		$(addprefix $(DESTDIR)$(PKGLIBDIR)/xen/,$(notdir $(SV_XEN_SOS))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(MAN1:%=%.1)) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(MAN5:%=%.5)) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(MAN8:%=%.8)) \
		$(addprefix $(DESTDIR)$(BASHCOMPDIR)/,$(INSTALL_COMPLETIONS)) \
		$(DESTDIR)$(SYSTEMDUNITDIR)/splitvisor.service
	$(Q)rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(INSTALL_DOCS))) \
		$(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(INSTALL_EXAMPLES)))
	$(Q)rmdir $(DESTDIR)$(BOOTDIR) $(DESTDIR)$(PKGLIBDIR)/xen $(DESTDIR)$(PKGLIBDIR) \
		$(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(DOCDIR) 2>/dev/null || true
