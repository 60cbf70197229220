# SPDX-License-Identifier: MIT
# dom0 build fragments: one .mk per program or library, included here.
include dom0/parse.mk
include dom0/launcher.mk
include dom0/xl.mk
include dom0/lib/lib.mk
