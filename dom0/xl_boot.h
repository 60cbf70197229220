/* SPDX-License-Identifier: MIT */
/* xl_boot: where xl reads a kernel or ramdisk that a config names by a bare file name. */
#ifndef SV_XL_BOOT_H
#define SV_XL_BOOT_H

#include <stddef.h>

/*
 * The boot folder, relative to the folder xl runs from: installed
 * (PREFIX/sbin/xl -> PREFIX/lib/splitvisor/boot) and in the build tree
 * (BUILD/bin/xl -> BUILD/guest).  `make install` puts the bundled kernel
 * in the first; keep the two in step.
 */
#define XL_BOOT_DIR_INSTALLED "../lib/splitvisor/boot"
#define XL_BOOT_DIR_BUILD "../guest"

/*
 * Path to open for a kernel or ramdisk given in a config.  A name with a
 * '/' or one that exists in the current directory is used as given (Xen's
 * rule: relative to where xl runs).  A bare name that is not there is
 * looked up in the boot folders above, the first that has it wins; when
 * none has it, out gets the name as given, so the error names what the
 * user wrote.  0, or -ENAMETOOLONG when a path does not fit out.
 */
int xl_boot_path(const char *given, char *out, size_t len);

#endif
