#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: every benchmark script in bench/, each printing ratios
# against a baseline measured in the same run.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
for s in bench/*.sh; do
	[ "$(basename "$s")" = run.sh ] && continue
	bash "$s" || { echo "bench: $s failed"; rc=1; }
done
exit $rc
