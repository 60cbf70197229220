/* SPDX-License-Identifier: MIT */
/*
 * Which of libxl's per-domain records (/var/lib/xen/userdata-d.*, written
 * by xl_userdata.c) belong to one stack: a symlink per domain under the run
 * directory, so that stopping the stack with guests still running removes
 * their records as `xl destroy` would.
 */
#ifndef SV_USERDATA_LINKS_H
#define SV_USERDATA_LINKS_H

#include <stdint.h>

#define SV_USERDATA_DIR "libxl-userdata" /* under the run directory */
#define SV_XEN_LIB_DIR "/var/lib/xen"	 /* libxl's XEN_LIB_DIR, as Debian builds it */

/* Note that record path is domain domid's; failures only cost the sweep. */
void sv_userdata_link(const char *rundir, uint32_t domid, const char *path);
void sv_userdata_unlink(const char *rundir, uint32_t domid);
/* The stack stopped: remove every record noted, then the notes; returns how many. */
int sv_userdata_sweep(const char *rundir);

#endif
