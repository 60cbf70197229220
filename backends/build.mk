# SPDX-License-Identifier: MIT
# Backends: one fragment per dom0 driver.
include backends/core/build.mk
include backends/console/build.mk
include backends/net/build.mk
include backends/blk/build.mk
