// SPDX-License-Identifier: MIT
/* The xl.cfg(5) subset Splitvisor understands: parser, defaults, checks. */
#ifndef SV_DOM0_CONFIG_H
#define SV_DOM0_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devspec.h"
#include "sv/ctl.h"

/*
 * Thread safety: these functions keep no global state; one struct
 * sv_config must not be used by two threads at once.
 */

enum sv_guest_type { SV_GUEST_PV, SV_GUEST_PVH, SV_GUEST_HVM };

enum sv_action {
	SV_ACTION_DESTROY,
	SV_ACTION_RESTART,
	SV_ACTION_PRESERVE,
	SV_ACTION_RENAME_RESTART,
	SV_ACTION_COREDUMP_DESTROY,
	SV_ACTION_COREDUMP_RESTART,
	SV_ACTION_SOFT_RESET,
};

/* The settings read so far (file lines, then overrides); private. */
struct sv_config_store;

/*
 * Warning sink.  xl ignores keys it does not know; we warn about them
 * (and about a few other dubious settings) but carry on.  When warn is
 * set, each warning is passed to it as one line without "\n", in the
 * same "file:line: warning: ..." form as errors; when it is NULL the
 * warnings are appended to cfg->warnings, one per line, truncated to
 * fit (the caller prints them).
 */
typedef void (*sv_config_warn_fn)(void *opaque, const char *msg);

struct sv_config {
	char name[64];
	enum sv_guest_type type; /* type= or builder=; default pv */
	uint64_t memory_mb;	 /* default 32 (libxl's default) */
	uint64_t maxmem_mb;	 /* defaults to memory */
	unsigned vcpus;		 /* default 1 */
	unsigned maxvcpus;	 /* defaults to vcpus */
	char cpus[256]; /* cpus=: every vCPU's hard affinity, an xl CPU list; "" if not given */
	uint32_t cpu_weight; /* credit weight 1..65535, default 256 */
	uint32_t cap;	     /* credit cap, % of one CPU; 0 (default): none */
	char kernel[4096], ramdisk[4096];
	char cmdline[1024]; /* cmdline=, or "root=R E" from root=/extra= */
	struct sv_disk *disks;
	size_t nr_disks;
	struct sv_vif *vifs;
	size_t nr_vifs;
	enum sv_action on_poweroff, on_reboot, on_crash; /* destroy, restart, destroy */
	char uuid[37];	   /* lower-case canonical form; "" if not given */
	uint32_t engine;   /* enum sv_engine; SV_ENGINE_DEFAULT: the host's */
	uint32_t tsc_mode; /* SV_TSC_MODE_* (sv/ctl.h); default 0 */
	char source[4096]; /* the config file path, for messages */

	/* Set by the caller after sv_config_init(), before parsing. */
	sv_config_warn_fn warn;
	void *warn_opaque;
	char warnings[2048]; /* used when warn is NULL */

	struct sv_config_store *store; /* private: raw settings, for overrides */
};

/* tsc_mode's xl.cfg name ("default", "always_emulate", "native", "native_paravirt"). */
const char *sv_tsc_mode_name(uint32_t mode);

/* Sets every default; cfg owns nothing yet.  Always succeeds. */
void sv_config_init(struct sv_config *cfg);

/*
 * Parses config text (len bytes, need not be NUL-terminated) into cfg,
 * which must have been through sv_config_init().  source_name prefixes
 * messages.  Calling it again adds the new text's settings after the
 * earlier ones (sv_config_override() does the same for one line).
 * Returns 0 or -errno (-EINVAL for bad input, -ENOMEM); on failure err
 * (errlen bytes, always NUL-terminated) holds one line such as
 *   "hello.cfg:3: disk spec 'foo': no vdev specified"
 *   "hello.cfg:7: memory: expected a number, got 'lots'"
 *   "hello.cfg:2: syntax error: unterminated string"
 * and cfg keeps whatever it held before the call (still to be freed).
 */
int sv_config_parse(struct sv_config *cfg, const char *text, size_t len, const char *source_name,
		    char *err, size_t errlen);

/*
 * Reads path (a file, pipe or /dev/stdin; at most 1 MiB) and parses it.
 * -ENOENT if it is missing, -EISDIR, -EFBIG, or as sv_config_parse().
 */
int sv_config_parse_file(struct sv_config *cfg, const char *path, char *err, size_t errlen);

/*
 * Applies one "key=value" given after the file on xl's command line
 * (`xl create hello.cfg memory=512 'extra="quiet"'`): the same syntax as
 * a config line, taking effect as if appended to the file, so extra=
 * rebuilds the command line from root= and extra=.  Messages say
 * "command line:" instead of "file:line:".
 */
int sv_config_override(struct sv_config *cfg, const char *key_eq_value, char *err, size_t errlen);

/*
 * Checks the whole configuration makes a domain we can build: a sane
 * name (1..63 of [A-Za-z0-9_.+:@-], not starting with '-', not all
 * digits, not "Domain-0"), a kernel, memory >= 16 MB and at most 1 TiB,
 * maxmem >= memory, vcpus 1..128, maxvcpus vcpus..128, cpu_weight
 * 1..65535, cap 0..100 x maxvcpus, no vdev twice,
 * and engine = "process" only for type = "pv" (it runs PV guests only).
 * Returns 0 or -EINVAL with a message in err.
 */
int sv_config_validate(const struct sv_config *cfg, char *err, size_t errlen);

/*
 * Whether name may name a domain, by the rules sv_config_validate()
 * applies (length aside: the caller bounds it); when not, *why says why.
 */
bool sv_config_name_ok(const char *name, const char **why);

/* Releases what cfg owns (disks, vifs, store); cfg may be re-initialised. */
void sv_config_free(struct sv_config *cfg);

/* "pv", "pvh", "hvm". */
const char *sv_guest_type_name(enum sv_guest_type t);
/* "destroy", "restart", "rename-restart", ... as in xl.cfg(5). */
const char *sv_action_name(enum sv_action a);
/* "kvm", "process"; "default" for SV_ENGINE_DEFAULT, "unknown" for others. */
const char *sv_engine_name(uint32_t engine);

#define SV_CONFIG_MAX_FILE (1u << 20)
#define SV_CONFIG_MIN_MEMORY_MB 16
#define SV_CONFIG_MAX_MEMORY_MB (1024u * 1024u)
#define SV_CONFIG_MAX_VCPUS 128

#endif /* SV_DOM0_CONFIG_H */
