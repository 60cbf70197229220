#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Short libFuzzer runs (10 s each) of blkback's request checks, netback's tx
# request parser, the xl config parser, the ELF loader and the hypercall
# argument decoders; `make bench-fuzz` runs them for longer.
cd "$(dirname "$0")/../.." || exit 1
: "${BUILD:=build}"
rc=0
for name in blk_req net_tx config elf hypercall; do
	BUILD=$BUILD bash fuzz/run_fuzz.sh "$name" "${FUZZ_SECONDS:-10}" || rc=1
done
exit $rc
