# SPDX-License-Identifier: MIT
# Manual pages, rendered from docs/*.md with pandoc (scripts/deps.sh installs it) into
# $(BUILD)/man/manN/.  docs/man.lua fits our Markdown to man(7); a page that pandoc
# warns about, that groff warns about (-ww), or that lacks NAME or SYNOPSIS fails the build.

MAN_DIR := $(BUILD)/man
MAN1 := xl
MAN5 := xl.cfg
MAN8 := splitvisor xenstored blkback netback
MANPAGES := $(MAN1:%=$(MAN_DIR)/man1/%.1) $(MAN5:%=$(MAN_DIR)/man5/%.5) \
	$(MAN8:%=$(MAN_DIR)/man8/%.8)

all: $(MANPAGES)

# The page's date: SOURCE_DATE_EPOCH when set (reproducible builds), else its source's.
man_date = $(shell date -u -d "@$${SOURCE_DATE_EPOCH:-$$(stat -c %Y $(1))}" +%Y-%m-%d)

# $(call render_man,SECTION): $< (docs/NAME.md) to $@, checked.
define render_man
	@mkdir -p $(dir $@)
	@echo "  MAN     $@"
	$(Q)command -v pandoc >/dev/null || { echo "man: pandoc is missing (make deps installs it)" >&2; exit 1; }
	$(Q)pandoc -f commonmark_x -t man -s --columns=1000 --fail-if-warnings -L docs/man.lua \
		-M title="$(shell echo '$*' | tr a-z A-Z)" -M section=$(1) \
		-M date="$(call man_date,$<)" -M footer=Splitvisor -M header="Splitvisor Manual" \
		-o $@.tmp $<
	$(Q)for s in NAME SYNOPSIS; do grep -q "^\.SH $$s" $@.tmp || \
		{ echo "man: $< has no '## $$s' section" >&2; rm -f $@.tmp; exit 1; }; done
	$(Q)w=$$(groff -t -man -Tutf8 -ww -z $@.tmp 2>&1); if [ -n "$$w" ]; then \
		echo "man: groff warns about $@:" >&2; echo "$$w" >&2; rm -f $@.tmp; exit 1; fi
	$(Q)mv $@.tmp $@
endef

$(MAN_DIR)/man1/%.1: docs/%.md docs/man.lua
	$(call render_man,1)
$(MAN_DIR)/man5/%.5: docs/%.md docs/man.lua
	$(call render_man,5)
$(MAN_DIR)/man8/%.8: docs/%.md docs/man.lua
	$(call render_man,8)

.PHONY: man
man: $(MANPAGES)
