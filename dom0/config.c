// SPDX-License-Identifier: MIT
/* The xl.cfg(5) subset Splitvisor understands: parser, defaults, checks. */
#include "config.h"
#include "config_priv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * How it works: the text is read into a list of settings (key, '=' or
 * '+=', value tree, where it came from), kept in cfg->store.  Then the
 * fields of struct sv_config are computed from all settings, the last
 * one of a key winning as in xl.  Overrides from the command line add
 * settings and recompute, so `extra=` after a file with `root=` builds
 * the command line just as xl does.
 */

#define MAX_DISKS 256
#define MAX_VIFS 64
#define OVERRIDE_SOURCE "command line"

static void __attribute__((format(printf, 4, 5)))
warn_at(struct sv_config *cfg, const char *src, int line, const char *fmt, ...)
{
	char msg[512], body[400];
	va_list ap;
	size_t used;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	cfg_msg_at(msg, sizeof(msg), src, line, "warning: %s", body);
	if (cfg->warn) {
		cfg->warn(cfg->warn_opaque, msg);
		return;
	}
	used = strnlen(cfg->warnings, sizeof(cfg->warnings));
	if (used < sizeof(cfg->warnings) - 1)
		snprintf(cfg->warnings + used, sizeof(cfg->warnings) - used, "%s\n", msg);
}

/* ---- from settings to fields ---- */

/* A key's effective value after every "=" and "+=". */
struct resolved {
	bool found, appended;
	enum val_kind kind;
	int line;
	const char *source;
	char *str;			/* scalars, malloc'd */
	const struct cfg_value **items; /* lists, malloc'd array */
	size_t n;
};

static void resolved_free(struct resolved *r)
{
	free(r->str);
	free(r->items);
}

/* Computes key's value; 0, -EINVAL (mixing list and string) or -ENOMEM. */
static int resolve(const struct sv_config *cfg, const char *key, struct resolved *out, char *err,
		   size_t errlen)
{
	const struct sv_config_store *st = cfg->store;
	const struct cfg_setting *s;
	const struct cfg_value **items;
	size_t i, j;
	char *str;

	memset(out, 0, sizeof(*out));
	for (i = 0; st && i < st->n; i++) {
		s = &st->v[i];
		if (strcmp(s->key, key))
			continue;
		if (!s->append || !out->found) {
			resolved_free(out);
			memset(out, 0, sizeof(*out));
		} else if ((out->kind == VAL_LIST) != (s->val.kind == VAL_LIST)) {
			cfg_msg_at(err, errlen, s->source, s->line,
				   "%s: cannot add a list to a string or a string to a list", key);
			return -EINVAL;
		}
		out->appended |= out->found && s->append;
		out->found = true;
		out->kind = s->val.kind;
		out->line = s->line;
		out->source = s->source;
		if (s->val.kind != VAL_LIST) {
			if (asprintf(&str, "%s%s", out->str ? out->str : "", s->val.str) < 0)
				goto nomem;
			free(out->str);
			out->str = str;
			continue;
		}
		items = realloc(out->items, (out->n + s->val.n + 1) * sizeof(*items));
		if (!items)
			goto nomem;
		for (j = 0; j < s->val.n; j++)
			items[out->n + j] = &s->val.items[j];
		out->items = items;
		out->n += s->val.n;
	}
	return 0;
nomem:
	cfg_msg_at(err, errlen, cfg->source, 0, "out of memory");
	return -ENOMEM;
}

/* Gets a string key into dst (size dstlen); untouched when absent. */
static int get_string(const struct sv_config *cfg, const char *key, char *dst, size_t dstlen,
		      bool *found, char *err, size_t errlen)
{
	struct resolved r;
	int ret = resolve(cfg, key, &r, err, errlen);

	if (ret)
		goto out;
	if (found)
		*found = r.found;
	if (!r.found)
		goto out;
	ret = -EINVAL;
	if (r.kind == VAL_LIST)
		cfg_msg_at(err, errlen, r.source, r.line, "%s: expected a string, got a list", key);
	else if (r.kind == VAL_WORD && !isdigit((unsigned char)r.str[0]))
		cfg_msg_at(err, errlen, r.source, r.line,
			   "%s: strings must be quoted, as in %s = \"%s\"", key, key, r.str);
	else if (strlen(r.str) >= dstlen)
		cfg_msg_at(err, errlen, r.source, r.line, "%s: too long (at most %zu characters)",
			   key, dstlen - 1);
	else
		ret = 0, memcpy(dst, r.str, strlen(r.str) + 1);
out:
	resolved_free(&r);
	return ret;
}

/* Gets a non-negative number (decimal, 0x hex, 0 octal), at most max. */
static int get_number(const struct sv_config *cfg, const char *key, uint64_t max, uint64_t *dst,
		      bool *found, char *err, size_t errlen)
{
	unsigned long long v;
	struct resolved r;
	char *end;
	int ret = resolve(cfg, key, &r, err, errlen);

	if (ret)
		goto out;
	if (found)
		*found = r.found;
	if (!r.found)
		goto out;
	ret = -EINVAL;
	if (r.kind == VAL_LIST) {
		cfg_msg_at(err, errlen, r.source, r.line, "%s: expected a number, got a list", key);
		goto out;
	}
	if (r.appended) {
		cfg_msg_at(err, errlen, r.source, r.line, "%s: cannot use += with numbers", key);
		goto out;
	}
	errno = 0;
	v = strtoull(r.str, &end, 0);
	if (!isdigit((unsigned char)r.str[0]) || *end) {
		cfg_msg_at(err, errlen, r.source, r.line, "%s: expected a number, got '%.64s'", key,
			   r.str);
		goto out;
	}
	if (errno || v > max) {
		cfg_msg_at(err, errlen, r.source, r.line,
			   "%s: %.64s is too large (at most %" PRIu64 ")", key, r.str, max);
		goto out;
	}
	*dst = v;
	ret = 0;
out:
	resolved_free(&r);
	return ret;
}

static const char *const action_names[] = {
	[SV_ACTION_DESTROY] = "destroy",
	[SV_ACTION_RESTART] = "restart",
	[SV_ACTION_PRESERVE] = "preserve",
	[SV_ACTION_RENAME_RESTART] = "rename-restart",
	[SV_ACTION_COREDUMP_DESTROY] = "coredump-destroy",
	[SV_ACTION_COREDUMP_RESTART] = "coredump-restart",
	[SV_ACTION_SOFT_RESET] = "soft-reset",
};

const char *sv_action_name(enum sv_action a)
{
	if ((unsigned)a < sizeof(action_names) / sizeof(action_names[0]))
		return action_names[a];
	return "unknown";
}

const char *sv_guest_type_name(enum sv_guest_type t)
{
	switch (t) {
	case SV_GUEST_PV:
		return "pv";
	case SV_GUEST_PVH:
		return "pvh";
	case SV_GUEST_HVM:
		return "hvm";
	}
	return "unknown";
}

static const char *const engine_names[] = {
	[SV_ENGINE_DEFAULT] = "default",
	[SV_ENGINE_KVM] = "kvm",
	[SV_ENGINE_PROCESS] = "process",
};

const char *sv_engine_name(uint32_t engine)
{
	if (engine < sizeof(engine_names) / sizeof(engine_names[0]))
		return engine_names[engine];
	return "unknown";
}

/* Where a key was last set, for messages about its value. */
static void key_where(const struct sv_config *cfg, const char *key, const char **src, int *line)
{
	const struct sv_config_store *st = cfg->store;
	size_t i;

	*src = cfg->source;
	*line = 0;
	for (i = 0; st && i < st->n; i++) {
		if (!strcmp(st->v[i].key, key)) {
			*src = st->v[i].source;
			*line = st->v[i].line;
		}
	}
}

static int get_action(const struct sv_config *cfg, const char *key, enum sv_action *dst, char *err,
		      size_t errlen)
{
	char buf[32];
	bool found;
	const char *src;
	int line, r;
	size_t i;

	r = get_string(cfg, key, buf, sizeof(buf), &found, err, errlen);
	if (r || !found)
		return r;
	for (i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
		if (!strcmp(buf, action_names[i])) {
			*dst = (enum sv_action)i;
			return 0;
		}
	}
	key_where(cfg, key, &src, &line);
	cfg_msg_at(err, errlen, src, line,
		   "%s: unknown action '%s' (expected destroy, restart, preserve, "
		   "rename-restart, coredump-destroy, coredump-restart or soft-reset)",
		   key, buf);
	return -EINVAL;
}

/* Checks and canonicalises an 8-4-4-4-12 hex UUID into dst[37]. */
static bool uuid_canon(const char *s, char dst[37])
{
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
		dst[i] = (char)tolower((unsigned char)s[i]);
	}
	dst[36] = '\0';
	return true;
}

static int get_type(struct sv_config *cfg, char *err, size_t errlen)
{
	char buf[16];
	bool found;
	const char *src;
	int line, r;

	r = get_string(cfg, "type", buf, sizeof(buf), &found, err, errlen);
	if (r)
		return r;
	if (found) {
		key_where(cfg, "type", &src, &line);
		if (!strcmp(buf, "pv"))
			cfg->type = SV_GUEST_PV;
		else if (!strcmp(buf, "pvh"))
			cfg->type = SV_GUEST_PVH;
		else if (!strcmp(buf, "hvm"))
			cfg->type = SV_GUEST_HVM;
		else {
			cfg_msg_at(err, errlen, src, line,
				   "type: unknown guest type '%s' (expected pv, pvh or hvm)", buf);
			return -EINVAL;
		}
		return 0;
	}
	r = get_string(cfg, "builder", buf, sizeof(buf), &found, err, errlen);
	if (r || !found)
		return r;
	key_where(cfg, "builder", &src, &line);
	if (!strcmp(buf, "hvm"))
		cfg->type = SV_GUEST_HVM;
	else if (!strcmp(buf, "generic"))
		cfg->type = SV_GUEST_PV;
	else {
		cfg_msg_at(err, errlen, src, line,
			   "builder: unknown builder '%s' (expected generic or hvm)", buf);
		return -EINVAL;
	}
	return 0;
}

/*
 * engine = "kvm" | "process": which engine runs the domain (DESIGN.md,
 * "Engines"); absent, the host's default.  A bare word is accepted too, so
 * that `xl create hello.cfg engine=process` needs no shell quoting.
 */
static int get_engine(struct sv_config *cfg, char *err, size_t errlen)
{
	struct resolved r;
	int ret = resolve(cfg, "engine", &r, err, errlen);

	if (ret || !r.found)
		goto out;
	ret = 0;
	if (r.kind != VAL_LIST && !strcmp(r.str, "kvm")) {
		cfg->engine = SV_ENGINE_KVM;
	} else if (r.kind != VAL_LIST && !strcmp(r.str, "process")) {
		cfg->engine = SV_ENGINE_PROCESS;
	} else {
		if (r.kind == VAL_LIST)
			cfg_msg_at(err, errlen, r.source, r.line,
				   "engine: expected \"kvm\" or \"process\", got a list");
		else
			cfg_msg_at(err, errlen, r.source, r.line,
				   "engine: expected \"kvm\" or \"process\", got '%.64s'", r.str);
		ret = -EINVAL;
	}
out:
	resolved_free(&r);
	return ret;
}

/* xl.cfg's tsc_mode names, in libxl's (and Xen's) order: the index is the number. */
static const char *const tsc_mode_names[] = {
	[SV_TSC_MODE_DEFAULT] = "default",
	[SV_TSC_MODE_ALWAYS_EMULATE] = "always_emulate",
	[SV_TSC_MODE_NATIVE] = "native",
	[SV_TSC_MODE_NATIVE_PARAVIRT] = "native_paravirt",
};
#define NR_TSC_MODES (sizeof(tsc_mode_names) / sizeof(tsc_mode_names[0]))

const char *sv_tsc_mode_name(uint32_t mode)
{
	return mode < NR_TSC_MODES ? tsc_mode_names[mode] : "unknown";
}

/*
 * tsc_mode = "NAME" (case as libxl ignores it) or, deprecated as xl says,
 * a number 0..3.  native_paravirt parses and is refused by
 * sv_config_validate, as libxl refuses it at create.
 */
static int get_tsc_mode(struct sv_config *cfg, char *err, size_t errlen)
{
	struct resolved r;
	long long v;
	char *end;
	int ret = resolve(cfg, "tsc_mode", &r, err, errlen);

	if (ret || !r.found)
		goto out;
	ret = -EINVAL;
	if (r.kind == VAL_LIST) {
		cfg_msg_at(err, errlen, r.source, r.line,
			   "tsc_mode: expected \"default\", \"always_emulate\" or \"native\", "
			   "got a list");
		goto out;
	}
	errno = 0;
	v = strtoll(r.str, &end, 0);
	if (*r.str && !*end && (isdigit((unsigned char)r.str[0]) || r.str[0] == '-')) {
		if (errno || v < 0 || (unsigned long long)v >= NR_TSC_MODES) {
			cfg_msg_at(err, errlen, r.source, r.line,
				   "tsc_mode: invalid value %.64s (the numeric form is 0..%zu)",
				   r.str, NR_TSC_MODES - 1);
			goto out;
		}
		warn_at(cfg, r.source, r.line,
			"specifying \"tsc_mode\" as an integer is deprecated. Please use the "
			"named parameter variant. e.g. tsc_mode=\"%s\"",
			tsc_mode_names[v]);
		cfg->tsc_mode = (uint32_t)v;
		ret = 0;
		goto out;
	}
	for (size_t i = 0; i < NR_TSC_MODES; i++) {
		if (!strcasecmp(r.str, tsc_mode_names[i])) {
			cfg->tsc_mode = (uint32_t)i;
			ret = 0;
			goto out;
		}
	}
	cfg_msg_at(err, errlen, r.source, r.line,
		   "tsc_mode: invalid value '%.64s' (expected \"default\", \"always_emulate\" "
		   "or \"native\")",
		   r.str);
out:
	resolved_free(&r);
	return ret;
}

/*
 * cpus = "LIST": one CPU list for every vCPU (checked against the host by
 * xl create).  Xen's list form, one list per vCPU, is ignored with a warning.
 */
static int get_cpus(struct sv_config *cfg, char *err, size_t errlen)
{
	struct resolved r;
	int ret = resolve(cfg, "cpus", &r, err, errlen);

	if (!ret && r.found && r.kind == VAL_LIST) {
		warn_at(cfg, r.source, r.line,
			"ignoring 'cpus': the list form (one CPU list per vCPU) is not supported");
		resolved_free(&r);
		return 0;
	}
	resolved_free(&r);
	if (ret)
		return ret;
	return get_string(cfg, "cpus", cfg->cpus, sizeof(cfg->cpus), NULL, err, errlen);
}

static int get_cmdline(struct sv_config *cfg, char *err, size_t errlen)
{
	char root[1024], extra[1024];
	bool has_cmd, has_root, has_extra;
	const char *src;
	int line, r, n;

	r = get_string(cfg, "cmdline", cfg->cmdline, sizeof(cfg->cmdline), &has_cmd, err, errlen);
	if (!r)
		r = get_string(cfg, "root", root, sizeof(root), &has_root, err, errlen);
	if (!r)
		r = get_string(cfg, "extra", extra, sizeof(extra), &has_extra, err, errlen);
	if (r || has_cmd)
		return r;
	if (has_root && has_extra)
		n = snprintf(cfg->cmdline, sizeof(cfg->cmdline), "root=%s %s", root, extra);
	else if (has_root)
		n = snprintf(cfg->cmdline, sizeof(cfg->cmdline), "root=%s", root);
	else if (has_extra)
		n = snprintf(cfg->cmdline, sizeof(cfg->cmdline), "%s", extra);
	else
		return 0;
	if (n < 0 || (size_t)n >= sizeof(cfg->cmdline)) {
		key_where(cfg, has_extra ? "extra" : "root", &src, &line);
		cfg_msg_at(err, errlen, src, line,
			   "kernel command line from root= and extra= too long "
			   "(at most %zu characters)",
			   sizeof(cfg->cmdline) - 1);
		return -EINVAL;
	}
	return 0;
}

/* Parses the disk = [...] or vif = [...] list into an array. */
static int get_devices(struct sv_config *cfg, const char *key, bool disk, char *err, size_t errlen)
{
	struct resolved r;
	const struct cfg_value *it;
	char msg[512];
	size_t i, max = disk ? MAX_DISKS : MAX_VIFS;
	void *arr = NULL;
	int ret = resolve(cfg, key, &r, err, errlen);

	if (ret || !r.found)
		goto out;
	ret = -EINVAL;
	if (r.kind != VAL_LIST) {
		cfg_msg_at(err, errlen, r.source, r.line,
			   "%s: expected a list, as in %s = [ '...' ]", key, key);
		goto out;
	}
	if (r.n > max) {
		cfg_msg_at(err, errlen, r.source, r.line, "%s: too many devices (at most %zu)", key,
			   max);
		goto out;
	}
	arr = calloc(r.n ? r.n : 1, disk ? sizeof(struct sv_disk) : sizeof(struct sv_vif));
	if (!arr) {
		cfg_msg_at(err, errlen, r.source, r.line, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < r.n; i++) {
		it = r.items[i];
		if (it->kind == VAL_LIST) {
			cfg_msg_at(err, errlen, r.source, it->line,
				   "%s: expected a list of strings, got a nested list", key);
			goto out;
		}
		ret = disk ? sv_disk_parse((struct sv_disk *)arr + i, it->str, msg, sizeof(msg))
			   : sv_vif_parse((struct sv_vif *)arr + i, it->str, msg, sizeof(msg));
		if (ret) {
			cfg_msg_at(err, errlen, r.source, it->line, "%s", msg);
			goto out;
		}
	}
	if (disk) {
		cfg->disks = arr;
		cfg->nr_disks = r.n;
	} else {
		cfg->vifs = arr;
		cfg->nr_vifs = r.n;
	}
	arr = NULL;
	ret = 0;
out:
	free(arr);
	resolved_free(&r);
	return ret;
}

/* Fills every field of out (already holding defaults) from the settings. */
static int apply_settings(struct sv_config *out, char *err, size_t errlen)
{
	char uuid[64];
	uint64_t v;
	bool found, found2;
	const char *src;
	int line, r;

	r = get_string(out, "name", out->name, sizeof(out->name), NULL, err, errlen);
	if (!r)
		r = get_type(out, err, errlen);
	if (!r)
		r = get_engine(out, err, errlen);
	if (!r)
		r = get_number(out, "memory", UINT64_MAX >> 20, &out->memory_mb, &found, err,
			       errlen);
	if (!r)
		r = get_number(out, "maxmem", UINT64_MAX >> 20, &out->maxmem_mb, &found2, err,
			       errlen);
	if (r)
		return r;
	if (!found2)
		out->maxmem_mb = out->memory_mb;
	r = get_number(out, "vcpus", 4096, &v, &found, err, errlen);
	if (r)
		return r;
	if (found)
		out->vcpus = (unsigned)v;
	r = get_number(out, "maxvcpus", 4096, &v, &found2, err, errlen);
	if (r)
		return r;
	out->maxvcpus = found2 ? (unsigned)v : out->vcpus;
	r = get_cpus(out, err, errlen);
	if (!r)
		r = get_tsc_mode(out, err, errlen);
	if (r)
		return r;
	r = get_number(out, "cpu_weight", 65535, &v, &found, err, errlen);
	if (r)
		return r;
	if (found)
		out->cpu_weight = (uint32_t)v;
	r = get_number(out, "cap", 100ull * SV_CONFIG_MAX_VCPUS, &v, &found, err, errlen);
	if (r)
		return r;
	if (found)
		out->cap = (uint32_t)v;
	r = get_string(out, "kernel", out->kernel, sizeof(out->kernel), NULL, err, errlen);
	if (!r)
		r = get_string(out, "ramdisk", out->ramdisk, sizeof(out->ramdisk), NULL, err,
			       errlen);
	if (!r)
		r = get_cmdline(out, err, errlen);
	if (!r)
		r = get_action(out, "on_poweroff", &out->on_poweroff, err, errlen);
	if (!r)
		r = get_action(out, "on_reboot", &out->on_reboot, err, errlen);
	if (!r)
		r = get_action(out, "on_crash", &out->on_crash, err, errlen);
	if (!r)
		r = get_string(out, "uuid", uuid, sizeof(uuid), &found, err, errlen);
	if (r)
		return r;
	if (found && !uuid_canon(uuid, out->uuid)) {
		key_where(out, "uuid", &src, &line);
		cfg_msg_at(err, errlen, src, line,
			   "uuid: '%s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", uuid);
		return -EINVAL;
	}
	r = get_devices(out, "disk", true, err, errlen);
	if (!r)
		r = get_devices(out, "vif", false, err, errlen);
	return r;
}

/* The defaults of every field computed from settings. */
static void set_defaults(struct sv_config *cfg)
{
	cfg->name[0] = '\0';
	cfg->type = SV_GUEST_PV;
	cfg->memory_mb = 32;
	cfg->maxmem_mb = 32;
	cfg->vcpus = 1;
	cfg->maxvcpus = 1;
	cfg->cpu_weight = 256;
	cfg->cap = 0;
	cfg->kernel[0] = '\0';
	cfg->ramdisk[0] = '\0';
	cfg->cmdline[0] = '\0';
	cfg->disks = NULL;
	cfg->nr_disks = 0;
	cfg->vifs = NULL;
	cfg->nr_vifs = 0;
	cfg->on_poweroff = SV_ACTION_DESTROY;
	cfg->on_reboot = SV_ACTION_RESTART;
	cfg->on_crash = SV_ACTION_DESTROY;
	cfg->uuid[0] = '\0';
	cfg->engine = SV_ENGINE_DEFAULT;
	cfg->tsc_mode = SV_TSC_MODE_DEFAULT;
}

/*
 * Recomputes cfg from its store into a scratch copy, committing only on
 * success so a failed parse or override leaves cfg as it was.
 */
static int recompute(struct sv_config *cfg, char *err, size_t errlen)
{
	struct sv_config *tmp = malloc(sizeof(*tmp));
	int r;

	if (!tmp) {
		cfg_msg_at(err, errlen, cfg->source, 0, "out of memory");
		return -ENOMEM;
	}
	memcpy(tmp, cfg, sizeof(*tmp));
	set_defaults(tmp);
	r = apply_settings(tmp, err, errlen);
	if (r) {
		free(tmp->disks);
		free(tmp->vifs);
	} else {
		free(cfg->disks);
		free(cfg->vifs);
		memcpy(cfg, tmp, sizeof(*cfg));
	}
	free(tmp);
	return r;
}

/* Keys of xl.cfg(5) that we accept and ignore with a warning. */
static const char *const handled_keys[] = {
	"name",	    "type",   "builder",     "memory",	  "maxmem",   "vcpus",
	"maxvcpus", "kernel", "ramdisk",     "cmdline",	  "root",     "extra",
	"disk",	    "vif",    "on_poweroff", "on_reboot", "on_crash", "uuid",
	"engine",   "cpus",   "cpu_weight",  "cap",	  "tsc_mode",
};

static void warn_unknown_key(struct sv_config *cfg, const struct cfg_setting *s)
{
	size_t i;

	for (i = 0; i < sizeof(handled_keys) / sizeof(handled_keys[0]); i++)
		if (!strcmp(s->key, handled_keys[i]))
			return;
	warn_at(cfg, s->source, s->line, "ignoring '%s': not a key Splitvisor knows", s->key);
}

/* ---- public API ---- */

void sv_config_init(struct sv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
}

/* Drops the settings added since the store held `keep` of them. */
static void store_truncate(struct sv_config_store *st, size_t keep)
{
	while (st->n > keep)
		cfg_setting_free(&st->v[--st->n]);
}

/* True if key is set in the store at or after index from. */
static bool key_set_since(const struct sv_config_store *st, const char *key, size_t from)
{
	size_t i;

	for (i = from; i < st->n; i++)
		if (!strcmp(st->v[i].key, key))
			return true;
	return false;
}

/* Like xl: cmdline= hides root= and extra=; say so when it newly does. */
static void warn_cmdline(struct sv_config *cfg, size_t first_new)
{
	const struct sv_config_store *st = cfg->store;
	const char *src;
	int line;

	if (!key_set_since(st, "cmdline", 0) ||
	    !(key_set_since(st, "root", 0) || key_set_since(st, "extra", 0)))
		return;
	if (!key_set_since(st, "cmdline", first_new) && !key_set_since(st, "root", first_new) &&
	    !key_set_since(st, "extra", first_new))
		return;
	key_where(cfg, "cmdline", &src, &line);
	warn_at(cfg, src, line, "ignoring root= and extra= in favour of cmdline=");
}

/* Parses and recomputes, undoing the new settings if either fails. */
static int add_text(struct sv_config *cfg, const char *text, size_t len, const char *source,
		    bool with_lines, char *err, size_t errlen)
{
	size_t keep;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!cfg->store) {
		cfg->store = calloc(1, sizeof(*cfg->store));
		if (!cfg->store) {
			cfg_msg_at(err, errlen, source, 0, "out of memory");
			return -ENOMEM;
		}
	}
	keep = cfg->store->n;
	r = cfg_parse_text(cfg, text, len, source, with_lines, err, errlen);
	if (r)
		return r;
	for (size_t i = keep; i < cfg->store->n; i++)
		warn_unknown_key(cfg, &cfg->store->v[i]);
	r = recompute(cfg, err, errlen);
	if (r)
		store_truncate(cfg->store, keep);
	else
		warn_cmdline(cfg, keep);
	return r;
}

int sv_config_parse(struct sv_config *cfg, const char *text, size_t len, const char *source_name,
		    char *err, size_t errlen)
{
	char old[sizeof(cfg->source)];
	int r;

	if (!source_name)
		source_name = "config";
	memcpy(old, cfg->source, sizeof(old));
	snprintf(cfg->source, sizeof(cfg->source), "%s", source_name);
	r = add_text(cfg, text ? text : "", text ? len : 0, cfg->source, true, err, errlen);
	if (r)
		memcpy(cfg->source, old, sizeof(old));
	return r;
}

int sv_config_parse_file(struct sv_config *cfg, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL, *grown;
	size_t got = 0, cap = 0;
	ssize_t n;
	int fd, r;

	if (err && errlen)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		cfg_msg_at(err, errlen, path, 0, "cannot open: %s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		cfg_msg_at(err, errlen, path, 0, "cannot stat: %s", strerror(-r));
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		cfg_msg_at(err, errlen, path, 0, "is a directory");
		goto out_close;
	}
	/* Regular files, pipes and /dev/stdin alike: read to EOF, bounded. */
	for (;;) {
		if (got == cap) {
			if (cap > SV_CONFIG_MAX_FILE) {
				r = -EFBIG;
				cfg_msg_at(err, errlen, path, 0, "too large (at most %u bytes)",
					   SV_CONFIG_MAX_FILE);
				goto out_free;
			}
			cap = cap ? cap * 2 : 4096;
			grown = realloc(buf, cap + 1);
			if (!grown) {
				r = -ENOMEM;
				cfg_msg_at(err, errlen, path, 0, "out of memory");
				goto out_free;
			}
			buf = grown;
		}
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			cfg_msg_at(err, errlen, path, 0, "read error: %s", strerror(-r));
			goto out_free;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > SV_CONFIG_MAX_FILE) {
		r = -EFBIG;
		cfg_msg_at(err, errlen, path, 0, "too large (at most %u bytes)",
			   SV_CONFIG_MAX_FILE);
		goto out_free;
	}
	r = sv_config_parse(cfg, buf ? buf : "", got, path, err, errlen);
out_free:
	free(buf);
out_close:
	close(fd);
	return r;
}

int sv_config_override(struct sv_config *cfg, const char *key_eq_value, char *err, size_t errlen)
{
	if (!key_eq_value) {
		cfg_msg_at(err, errlen, OVERRIDE_SOURCE, 0, "empty setting");
		return -EINVAL;
	}
	return add_text(cfg, key_eq_value, strlen(key_eq_value), OVERRIDE_SOURCE, false, err,
			errlen);
}

bool sv_config_name_ok(const char *name, const char **why)
{
	const char *p;
	bool digits_only = true;

	if (!*name) {
		*why = "no name given (name = \"...\" is mandatory)";
		return false;
	}
	if (name[0] == '-') {
		*why = "may not start with '-'";
		return false;
	}
	for (p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("_.+:@-", *p)) {
			*why = "may only contain letters, digits and _.+:@-";
			return false;
		}
		if (!isdigit((unsigned char)*p))
			digits_only = false;
	}
	if (digits_only) {
		*why = "may not be all digits (it would read as a domain id)";
		return false;
	}
	if (!strcmp(name, "Domain-0")) {
		*why = "Domain-0 is the control domain's name";
		return false;
	}
	return true;
}

int sv_config_validate(const struct sv_config *cfg, char *err, size_t errlen)
{
	const char *src = *cfg->source ? cfg->source : "config";
	const char *why;
	size_t i, j;

	if (err && errlen)
		err[0] = '\0';
	if (!sv_config_name_ok(cfg->name, &why)) {
		if (*cfg->name)
			cfg_msg_at(err, errlen, src, 0, "name '%s' %s", cfg->name, why);
		else
			cfg_msg_at(err, errlen, src, 0, "%s", why);
		return -EINVAL;
	}
	if (!*cfg->kernel) {
		cfg_msg_at(err, errlen, src, 0,
			   "no kernel given (kernel = \"...\" is mandatory: "
			   "Splitvisor boots every guest type directly)");
		return -EINVAL;
	}
	if (cfg->memory_mb < SV_CONFIG_MIN_MEMORY_MB) {
		cfg_msg_at(err, errlen, src, 0,
			   "memory = %" PRIu64 " is too small (at least %u MB)", cfg->memory_mb,
			   SV_CONFIG_MIN_MEMORY_MB);
		return -EINVAL;
	}
	if (cfg->memory_mb > SV_CONFIG_MAX_MEMORY_MB || cfg->maxmem_mb > SV_CONFIG_MAX_MEMORY_MB) {
		cfg_msg_at(err, errlen, src, 0, "memory and maxmem may be at most %u MB",
			   SV_CONFIG_MAX_MEMORY_MB);
		return -EINVAL;
	}
	if (cfg->maxmem_mb < cfg->memory_mb) {
		cfg_msg_at(err, errlen, src, 0,
			   "maxmem = %" PRIu64 " is less than memory = %" PRIu64, cfg->maxmem_mb,
			   cfg->memory_mb);
		return -EINVAL;
	}
	if (cfg->vcpus < 1 || cfg->vcpus > SV_CONFIG_MAX_VCPUS) {
		cfg_msg_at(err, errlen, src, 0, "vcpus = %u is out of range (1..%u)", cfg->vcpus,
			   SV_CONFIG_MAX_VCPUS);
		return -EINVAL;
	}
	if (cfg->maxvcpus < cfg->vcpus || cfg->maxvcpus > SV_CONFIG_MAX_VCPUS) {
		cfg_msg_at(err, errlen, src, 0,
			   "maxvcpus = %u is out of range (vcpus..%u, here %u..%u)", cfg->maxvcpus,
			   SV_CONFIG_MAX_VCPUS, cfg->vcpus, SV_CONFIG_MAX_VCPUS);
		return -EINVAL;
	}
	if (cfg->cpu_weight < 1 || cfg->cpu_weight > 65535) {
		cfg_msg_at(err, errlen, src, 0, "cpu_weight = %u is out of range (1..65535)",
			   cfg->cpu_weight);
		return -EINVAL;
	}
	if ((uint64_t)cfg->cap > 100ull * cfg->maxvcpus) {
		cfg_msg_at(err, errlen, src, 0,
			   "cap = %u is out of range (0..%u: 100 per vCPU, maxvcpus = %u)",
			   cfg->cap, 100 * cfg->maxvcpus, cfg->maxvcpus);
		return -EINVAL;
	}
	if (cfg->tsc_mode == SV_TSC_MODE_NATIVE_PARAVIRT) {
		/* libxl's words at create: Xen no longer has the mode (PV rdtscp) */
		cfg_msg_at(err, errlen, src, 0,
			   "TSC Mode native_paravirt (a.k.a PVRDTSCP) has been removed");
		return -EINVAL;
	}
	if (cfg->engine == SV_ENGINE_PROCESS && cfg->type != SV_GUEST_PV) {
		cfg_msg_at(err, errlen, src, 0,
			   "engine \"process\" runs only type = \"pv\" guests, not \"%s\"",
			   sv_guest_type_name(cfg->type));
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_disks; i++) {
		for (j = 0; j < i; j++) {
			if (cfg->disks[i].devid != cfg->disks[j].devid)
				continue;
			cfg_msg_at(err, errlen, src, 0,
				   "disks '%s' and '%s' are the same virtual device",
				   cfg->disks[j].vdev, cfg->disks[i].vdev);
			return -EINVAL;
		}
	}
	for (i = 0; i < cfg->nr_vifs; i++) {
		for (j = 0; j < i; j++) {
			if (cfg->vifs[i].devid < 0 || cfg->vifs[i].devid != cfg->vifs[j].devid)
				continue;
			cfg_msg_at(err, errlen, src, 0, "two vifs have devid %d",
				   cfg->vifs[i].devid);
			return -EINVAL;
		}
	}
	return 0;
}

void sv_config_free(struct sv_config *cfg)
{
	if (cfg->store) {
		store_truncate(cfg->store, 0);
		free(cfg->store->v);
		free(cfg->store);
		cfg->store = NULL;
	}
	free(cfg->disks);
	free(cfg->vifs);
	cfg->disks = NULL;
	cfg->vifs = NULL;
	cfg->nr_disks = 0;
	cfg->nr_vifs = 0;
}
