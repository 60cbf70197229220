/* SPDX-License-Identifier: MIT */
/*
 * What xl create and xl restore share (xl_create.c): the steps after a
 * domain's memory and vCPUs are in place (xenstore nodes, devices, start,
 * monitor, console), and the record of the configuration a domain was
 * created with, which xl save puts in its file (xl_cfgrec.c).
 */
#ifndef SV_XL_DOMAIN_H
#define SV_XL_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "sv/svctl.h"

struct xs_handle;
struct images; /* xl_create.c's kernel and ramdisk of a config */

/* Says why the hypervisor would not create cfg's domain (err: its -errno). */
void xl_create_error(struct svctl *c, const struct sv_config *cfg, int err);
/* A new unbound port of domid for dom0 (store, console); 0 or -errno. */
int xl_alloc_port_for_dom0(struct svctl *c, uint32_t domid, uint32_t *port);
/* cfg's uuid, or a fresh random (version 4) one. */
void xl_make_handle(const struct sv_config *cfg, uint8_t h[16]);

struct xl_dom_setup {
	uint32_t domid;
	const char *uuid; /* canonical text */
	uint64_t store_mfn, console_mfn;
	uint32_t store_port, console_port;
};
/*
 * A built domain's xenstore nodes and introduction, its devices from cfg,
 * libxl's record and ours of its config, then (unless paused) it runs.
 * 0, or -errno after saying why, with the domain destroyed.
 */
int xl_domain_finish(struct svctl *c, struct xs_handle *xs, const struct sv_config *cfg,
		     const struct xl_dom_setup *su, bool paused);
/*
 * The monitor (unless !monitor) that applies on_poweroff etc.; im: the
 * kernel for a restart (NULL: read from cfg when one is needed).  With
 * console, follows the console and returns its status; else 0.
 */
int xl_domain_launch(struct svctl *c, const struct sv_config *cfg, const struct images *im,
		     uint32_t domid, bool console, bool monitor);

/*
 * xl_cfgrec.c: the config text (the file, then each key=value override on
 * a line of its own) of the command that runs: xl_domain_finish records it
 * for the new domain as RUNDIR/xl-config/DOMID, xl save reads it back, the
 * monitor forgets it when the domain is gone.
 */
extern const char *xl_cfg_text;
extern size_t xl_cfg_len;
#define XL_CONFIG_MAX (1u << 20) /* as sv_config_parse_file's limit */
/* Reads a config file's text (at most XL_CONFIG_MAX bytes); 0 or -errno after saying why. */
int xl_config_read_file(const char *path, char **text, size_t *len);
/* path's text and the overrides, as xl_cfg_text (which then owns it); 0 or -errno. */
int xl_config_set_text(const char *path, char **overrides, int n);
void xl_config_record(uint32_t domid, const char *text, size_t len);
/* The recorded text (malloc'd), or -ENOENT / -errno. */
int xl_config_recorded(uint32_t domid, char **text, size_t *len);
void xl_config_forget(uint32_t domid);

#endif
