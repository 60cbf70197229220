/* SPDX-License-Identifier: MIT */
/* Shared helpers of the xl command's files. */
#ifndef SV_XL_H
#define SV_XL_H

#include <stdbool.h>
#include <stdint.h>
#include "sv/svctl.h"
#include "config.h"

/* Prints "xl: <message>" on stderr. */
void xl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Connects to the hypervisor or prints why not (NULL). */
struct svctl *xl_connect(void);
/* Resolves a name or a numeric domid of a live guest; prints the error itself. */
int xl_domid(struct svctl *c, const char *arg, uint32_t *domid);
const char *xl_reason_name(uint32_t reason);
/* A domain handle as canonical UUID text (36 characters and a NUL). */
void xl_uuid_text(const uint8_t h[16], char out[37]);
/* The engines of an SV_ENGINE_BIT() mask as "kvm process" ("none" if empty) into buf. */
void xl_engines_text(uint32_t engines, char *buf, size_t len);

/* Commands: argc/argv start at the command name; return the exit status. */
int xl_cmd_create(int argc, char **argv);
int xl_cmd_list(int argc, char **argv);
int xl_cmd_info(int argc, char **argv);
int xl_cmd_console(int argc, char **argv);
int xl_cmd_pause(int argc, char **argv);
int xl_cmd_unpause(int argc, char **argv);
int xl_cmd_shutdown(int argc, char **argv);
int xl_cmd_reboot(int argc, char **argv);
int xl_cmd_destroy(int argc, char **argv);
int xl_cmd_domid(int argc, char **argv);
int xl_cmd_domname(int argc, char **argv);
/* xl_save.c, xl_restore.c */
int xl_cmd_save(int argc, char **argv);
int xl_cmd_restore(int argc, char **argv);
int xl_cmd_vcpu_list(int argc, char **argv);
int xl_cmd_vcpu_pin(int argc, char **argv);
int xl_cmd_vcpu_set(int argc, char **argv);
/* A new domain's cpus= (xl_vcpu.c): every vCPU pinned there; 0, or -errno after saying why. */
int xl_vcpu_pin_config(struct svctl *c, uint32_t domid, const struct sv_config *cfg);
int xl_cmd_sched_credit(int argc, char **argv);
/* xl_sched.c: a new domain's cpu_weight and cap from its config (before it runs). */
int xl_sched_apply_config(struct svctl *c, uint32_t domid, const struct sv_config *cfg);
/* xl_misc.c, xl_top.c */
int xl_cmd_uptime(int argc, char **argv);
int xl_cmd_dmesg(int argc, char **argv);
int xl_cmd_rename(int argc, char **argv);
int xl_cmd_sysrq(int argc, char **argv);
int xl_cmd_trigger(int argc, char **argv);
int xl_cmd_top(int argc, char **argv);
/* xl_list.c: the "config" object of `xl list -l` for a parsed config (`xl create -n`); 0 or
 * -ENOMEM. */
int xl_config_print_json(const struct sv_config *cfg, const char *uuid);
/* The same object for others to serialise (json-c's; the caller puts it); NULL when out of memory.
 */
struct json_object *xl_config_json(const struct sv_config *cfg, const char *uuid);
/*
 * xl_userdata.c: libxl's record of a domain we created,
 * /var/lib/xen/userdata-d.DOMID.UUID.libxl-json (the config object above),
 * so that Xen's own libxl (Debian's `xl list -l`) sees its configuration.
 * Written only where /var/lib/xen exists; failures are warnings.
 */
void xl_userdata_write(const struct sv_config *cfg, uint32_t domid, const char *uuid);
/* Removes libxl's records and locks of the domain id (any uuid). */
void xl_userdata_remove(uint32_t domid);

/* Devices (xl_block.c, xl_net.c): create the config's devices of a new domain. */
struct xs_handle;
struct sv_config;
int xl_block_create_all(struct xs_handle *xs, uint32_t domid, const struct sv_config *cfg);
int xl_net_create_all(struct xs_handle *xs, uint32_t domid, const struct sv_config *cfg);
int xl_cmd_block_attach(int argc, char **argv);
int xl_cmd_block_detach(int argc, char **argv);
int xl_cmd_block_list(int argc, char **argv);
int xl_cmd_network_attach(int argc, char **argv);
int xl_cmd_network_detach(int argc, char **argv);
int xl_cmd_network_list(int argc, char **argv);

/* Memory (xl_mem.c): balloon target and maximum; Xen's size syntax (KiB, or -1). */
int xl_cmd_mem_set(int argc, char **argv);
int xl_cmd_mem_max(int argc, char **argv);
int64_t xl_parse_mem_kb(const char *s);

/* Follows a domain's console until it is gone (or forever with follow). */
/*
 * Follow domid's console until the domain is gone (or Ctrl-]).  Once it is
 * attached and has shown what the guest wrote so far, it closes
 * attached_fd (when >= 0): xl create -c tells the monitor so.
 */
int xl_console_follow(struct svctl *c, uint32_t domid, int attached_fd);

#endif
