# SPDX-License-Identifier: MIT
# dom0 build fragments: one .mk per program or library, included here.
include dom0/launcher.mk
