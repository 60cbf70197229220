#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Short libFuzzer run (15 s) of xenstored's request parser and handlers; `make bench-fuzz` runs it for longer.
cd "$(dirname "$0")/../.." || exit 1
: "${BUILD:=build}"
XS_FUZZ_SECONDS=${XS_FUZZ_SECONDS:-15} BUILD=$BUILD bash fuzz/xenstore_fuzz.sh
