// SPDX-License-Identifier: MIT
/* xl list: Xen's table of domains, and with -l their long form as JSON; xl create -n's JSON too
 * (json-c lives only here). */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "xl.h"
#include "sv/svxs.h"

#define LIST_USAGE "usage: xl list [-l] [-v] [<Domain> ...]"

/* dom0's CPU time: the host's user + system time, as Xen counts dom0's vCPUs. */
static double host_cpu_seconds(void)
{
	unsigned long long user, nice, sys;
	FILE *f = fopen("/proc/stat", "r");
	double s = 0;

	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu", &user, &nice, &sys) == 3)
			s = (double)(user + nice + sys) / (double)sysconf(_SC_CLK_TCK);
		fclose(f);
	}
	return s;
}

/* Xen's six state letters (r b p s c d: running, blocked, paused, shutdown, reason, dying). */
static void state_letters(const struct sv_dominfo *d, char out[7])
{
	static const char reason_letters[] = "-rscwS";
	bool shut = d->flags & SV_DOMF_SHUTDOWN;

	out[0] = d->flags & SV_DOMF_RUNNING ? 'r' : '-';
	out[1] = d->flags & SV_DOMF_BLOCKED ? 'b' : '-';
	out[2] = d->flags & SV_DOMF_PAUSED ? 'p' : '-';
	out[3] = shut ? 's' : '-';
	out[4] = shut && d->shutdown_reason < 6 ? reason_letters[d->shutdown_reason] : '-';
	out[5] = d->flags & SV_DOMF_DYING ? 'd' : '-';
	out[6] = '\0';
}

/*
 * One row; verbose (-v) adds, as Xen's, the UUID, the shutdown reason code
 * in hex ("-" while not shut down) and the security label (none here: "-").
 */
static void print_row(const struct sv_dominfo *d, bool verbose)
{
	char state[7], uuid[37];

	state_letters(d, state);
	printf("%-40s %5u %5llu %5u     %s  %8.1f", d->name, d->domid,
	       (unsigned long long)(d->mem_kb / 1024), d->online_vcpus, state,
	       (double)d->cpu_time_ns / 1e9);
	if (verbose) {
		xl_uuid_text(d->handle, uuid);
		printf(" %s", uuid);
		if (d->flags & SV_DOMF_SHUTDOWN)
			printf(" %8x", d->shutdown_reason);
		else
			printf(" %8s", "-");
		printf(" %16s", "-");
	}
	putchar('\n');
}

/* ---- xl list -l ---- */

/* Adds key: val to obj, taking val (NULL: it could not be made); 0 or -ENOMEM. */
static int jadd(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val || json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

/* Adds key: "text", or key: null when text is NULL; 0 or -ENOMEM. */
static int jadd_text(struct json_object *obj, const char *key, const char *text)
{
	if (!text)
		return json_object_object_add(obj, key, NULL) < 0 ? -ENOMEM : 0;
	return jadd(obj, key, json_object_new_string(text));
}

/* Adds key: {} to parent and returns that new object (parent owns it); NULL when out of memory. */
static struct json_object *jchild(struct json_object *parent, const char *key)
{
	struct json_object *o = json_object_new_object();

	return jadd(parent, key, o) ? NULL : o;
}

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case SV_DOM_PVH:
		return "pvh";
	case SV_DOM_HVM:
		return "hvm";
	default:
		return "pv"; /* PV guests, and dom0 (0) as Xen has it */
	}
}

/* A number from xenstore /local/domain/<domid>/<rel>, or fallback when it is not there. */
static uint64_t xs_number(struct xs_handle *xs, uint32_t domid, const char *rel, uint64_t fallback)
{
	char dom[SVXS_DOMAIN_DIR_MAX];
	uint64_t v;

	svxs_domain_dir(dom, domid);
	return xs && !svxs_read_uint(xs, XBT_NULL, dom, rel, UINT64_MAX, &v) ? v : fallback;
}

/* Xen's "avail_vcpus": the online vCPU numbers. */
static struct json_object *vcpu_list(uint32_t online)
{
	struct json_object *arr = json_object_new_array();
	uint32_t i;

	for (i = 0; arr && i < online && i < 4096; i++) {
		struct json_object *n = json_object_new_int((int32_t)i);

		if (!n || json_object_array_add(arr, n) < 0) {
			json_object_put(n);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

/*
 * One domain as Xen's `xl list -l` shows it ("domid", "config" with the
 * c_info and b_info we know), plus what our hypervisor says beside it:
 * "engine" (null for dom0, and while the hypervisor does not say),
 * "state" (xl list's letters), and as libxl_dominfo names them "cpu_time"
 * (ns), "vcpu_online", "current_memkb" and "max_memkb" (the reservation and
 * its maximum), "host_memkb" (what the host holds for it: its memory's
 * allocated blocks), and once shut down "shutdown_reason".  NULL when
 * out of memory.
 */
static struct json_object *dom_json(const struct sv_dominfo *d, struct xs_handle *xs)
{
	struct json_object *o, *config, *c_info, *b_info;
	uint64_t max_kb = d->mem_kb, target_kb = d->mem_kb;
	char uuid[37], state[7];

	if (d->domid != 0) {
		max_kb = xs_number(xs, d->domid, "memory/static-max", d->mem_kb);
		target_kb = xs_number(xs, d->domid, "memory/target", d->mem_kb);
	}
	xl_uuid_text(d->handle, uuid);
	state_letters(d, state);

	/* Children are added to their parent first, then filled: only o is ours to put. */
	o = json_object_new_object();
	if (!o || jadd(o, "domid", json_object_new_int64(d->domid)))
		goto out_put;
	config = jchild(o, "config");
	c_info = config ? jchild(config, "c_info") : NULL;
	b_info = config ? jchild(config, "b_info") : NULL;
	if (!c_info || !b_info)
		goto out_put;
	if (jadd_text(c_info, "type", kind_name(d->kind)) ||
	    jadd(c_info, "name",
		 json_object_new_string_len(d->name, (int)strnlen(d->name, sizeof(d->name)))) ||
	    jadd_text(c_info, "uuid", uuid) ||
	    jadd(b_info, "max_vcpus", json_object_new_int64(d->max_vcpus)) ||
	    jadd(b_info, "avail_vcpus", vcpu_list(d->online_vcpus)) ||
	    jadd(b_info, "max_memkb", json_object_new_int64((int64_t)max_kb)) ||
	    jadd(b_info, "target_memkb", json_object_new_int64((int64_t)target_kb)) ||
	    (d->domid != 0 && jadd_text(b_info, "tsc_mode", sv_tsc_mode_name(d->tsc_mode))))
		goto out_put;
	if (jadd_text(o, "engine", d->engine ? sv_engine_name(d->engine) : NULL) ||
	    jadd_text(o, "state", state) ||
	    jadd(o, "cpu_time", json_object_new_int64((int64_t)d->cpu_time_ns)) ||
	    jadd(o, "vcpu_online", json_object_new_int64(d->online_vcpus)))
		goto out_put;
	/* libxl_dominfo's current and maximum reservation; host_memkb is ours (the host's share).
	 */
	if (d->domid != 0 && (jadd(o, "current_memkb", json_object_new_int64((int64_t)d->mem_kb)) ||
			      jadd(o, "max_memkb", json_object_new_int64((int64_t)d->max_mem_kb)) ||
			      jadd(o, "host_memkb", json_object_new_int64((int64_t)d->host_kb))))
		goto out_put;
	if ((d->flags & SV_DOMF_SHUTDOWN) &&
	    jadd_text(o, "shutdown_reason", xl_reason_name(d->shutdown_reason)))
		goto out_put;
	return o;

out_put:
	json_object_put(o);
	return NULL;
}

/* Prints the JSON array of the n domains; 0 or -ENOMEM. */
static int print_long(const struct sv_dominfo *const *doms, int n)
{
	struct json_object *arr = json_object_new_array();
	struct xs_handle *xs = svxs_open(); /* for maxmem and target; fine without */
	const char *text;
	int i, ret = -ENOMEM;

	if (!arr)
		goto out;
	for (i = 0; i < n; i++) {
		struct json_object *o = dom_json(doms[i], xs);

		if (!o || json_object_array_add(arr, o) < 0) {
			json_object_put(o);
			goto out;
		}
	}
	text =
	    json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		goto out;
	printf("%s\n", text);
	ret = 0;
out:
	svxs_close(xs);
	json_object_put(arr);
	return ret;
}

/*
 * xl list [-l] [-v] [<Domain> ...]: every domain (Domain-0 first), or the
 * ones named.  With -l, as Xen 4.17: a JSON array of the guests (Domain-0
 * only when named, since Xen keeps no configuration for it); -v adds
 * columns to the table (-l wins over it, as in Xen).
 */
int xl_cmd_list(int argc, char **argv)
{
	static const struct option opts[] = { { "long", no_argument, NULL, 'l' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static struct sv_dominfo doms[SV_CTL_LIST_MAX];
	static const struct sv_dominfo *show[SV_CTL_LIST_MAX + 1];
	struct sv_dominfo dom0 = { .domid = 0, .flags = SV_DOMF_RUNNING };
	struct sv_host_info hi;
	struct svctl *c;
	bool long_form = false, verbose = false;
	int opt, n, nshow = 0, ret = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+lvh", opts, NULL)) != -1) {
		if (opt == 'l') {
			long_form = true;
		} else if (opt == 'v') {
			verbose = true;
		} else {
			xl_err(LIST_USAGE);
			return 2;
		}
	}
	c = xl_connect();
	if (!c)
		return 1;
	ret = svctl_host_info(c, &hi);
	n = ret ? 0 : svctl_domain_list(c, 1, doms, SV_CTL_LIST_MAX);
	svctl_close(c);
	if (ret || n < 0) {
		xl_err("cannot list domains: %s", strerror(ret ? -ret : -n));
		return 1;
	}
	dom0.online_vcpus = dom0.max_vcpus = hi.nr_cpus;
	dom0.mem_kb = hi.total_kb;
	dom0.cpu_time_ns = (uint64_t)(host_cpu_seconds() * 1e9);
	snprintf(dom0.name, sizeof(dom0.name), "Domain-0");

	if (optind >= argc) {
		if (!long_form)
			show[nshow++] = &dom0;
		for (int i = 0; i < n; i++)
			show[nshow++] = &doms[i];
	}
	for (int a = optind; a < argc; a++) {
		bool found = false;

		if (!strcmp(argv[a], "Domain-0") || !strcmp(argv[a], "0")) {
			if (nshow <= SV_CTL_LIST_MAX)
				show[nshow++] = &dom0;
			continue;
		}
		for (int i = 0; i < n; i++) {
			char id[16];

			snprintf(id, sizeof(id), "%u", doms[i].domid);
			if (strcmp(doms[i].name, argv[a]) && strcmp(id, argv[a]))
				continue;
			if (nshow <= SV_CTL_LIST_MAX)
				show[nshow++] = &doms[i];
			found = true;
		}
		if (!found) {
			xl_err("domain '%s' does not exist", argv[a]);
			ret = 1;
		}
	}

	if (long_form) {
		int err = print_long(show, nshow);

		if (err) {
			xl_err("cannot format the domain list: %s", strerror(-err));
			return 1;
		}
		return ret;
	}
	printf("Name                                        ID   Mem VCPUs\tState\tTime(s)%s\n",
	       verbose ? "   UUID                            Reason-Code\tSecurity Label" : "");
	for (int i = 0; i < nshow; i++)
		print_row(show[i], verbose);
	return ret;
}

/* ---- xl create -n ---- */

static const char *disk_format_name(int f)
{
	switch (f) {
	case SV_DISK_FMT_QCOW:
		return "qcow";
	case SV_DISK_FMT_QCOW2:
		return "qcow2";
	case SV_DISK_FMT_VHD:
		return "vhd";
	case SV_DISK_FMT_QED:
		return "qed";
	case SV_DISK_FMT_EMPTY:
		return "empty";
	default:
		return "raw";
	}
}

/* Adds key: "text" when text is not empty; 0 or -ENOMEM. */
static int jadd_set(struct json_object *obj, const char *key, const char *text)
{
	return *text ? jadd_text(obj, key, text) : 0;
}

/* libxl_device_disk as libxl's JSON names it. */
static struct json_object *disk_json(const struct sv_disk *d)
{
	struct json_object *o = json_object_new_object();

	if (!o || jadd_set(o, "pdev_path", d->target) || jadd_text(o, "vdev", d->vdev) ||
	    jadd_set(o, "backend", d->backendtype) ||
	    jadd_text(o, "format", disk_format_name(d->format)) ||
	    jadd_set(o, "script", d->script) ||
	    jadd(o, "readwrite", json_object_new_int(!d->readonly)) ||
	    jadd(o, "is_cdrom", json_object_new_int(d->cdrom))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* libxl_device_nic as libxl's JSON names it; "mac" only when the config gave one. */
static struct json_object *nic_json(const struct sv_vif *v, int index)
{
	struct json_object *o = json_object_new_object();
	char mac[18];

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0], v->mac[1], v->mac[2],
		 v->mac[3], v->mac[4], v->mac[5]);
	if (!o || jadd(o, "devid", json_object_new_int(v->devid >= 0 ? v->devid : index)) ||
	    (v->mac_set && jadd_text(o, "mac", mac)) || jadd_set(o, "ip", v->ip) ||
	    jadd_set(o, "bridge", v->bridge) || jadd_set(o, "ifname", v->vifname) ||
	    jadd_set(o, "script", v->script) || jadd_set(o, "model", v->model) ||
	    (v->mtu && jadd(o, "mtu", json_object_new_int((int32_t)v->mtu)))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Adds key: [ item(0) .. item(n-1) ]; 0 or -ENOMEM. */
static int jadd_array(struct json_object *obj, const char *key, size_t n,
		      struct json_object *(*item)(const void *base, size_t i), const void *base)
{
	struct json_object *arr = json_object_new_array();

	if (jadd(obj, key, arr))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = item(base, i);

		if (!o || json_object_array_add(arr, o) < 0) {
			json_object_put(o);
			return -ENOMEM;
		}
	}
	return 0;
}

static struct json_object *disk_item(const void *base, size_t i)
{
	return disk_json(&((const struct sv_disk *)base)[i]);
}

static struct json_object *nic_item(const void *base, size_t i)
{
	return nic_json(&((const struct sv_vif *)base)[i], (int)i);
}

/*
 * The domain configuration a create would build, as Xen's `xl create -n`
 * prints libxl_domain_config: c_info and b_info as `xl list -l` shows them
 * under "config", then the kernel, disks, nics and the on_* actions; our
 * "engine" when the config names one.
 */
struct json_object *xl_config_json(const struct sv_config *cfg, const char *uuid)
{
	struct json_object *o = json_object_new_object(), *c_info, *b_info;

	c_info = o ? jchild(o, "c_info") : NULL;
	b_info = o ? jchild(o, "b_info") : NULL;
	if (!c_info || !b_info)
		goto out;
	if (jadd_text(c_info, "type", sv_guest_type_name(cfg->type)) ||
	    jadd_text(c_info, "name", cfg->name) || jadd_text(c_info, "uuid", uuid) ||
	    jadd(b_info, "max_vcpus", json_object_new_int64(cfg->maxvcpus)) ||
	    jadd(b_info, "avail_vcpus", vcpu_list(cfg->vcpus)) ||
	    jadd(b_info, "max_memkb", json_object_new_int64((int64_t)cfg->maxmem_mb * 1024)) ||
	    jadd(b_info, "target_memkb", json_object_new_int64((int64_t)cfg->memory_mb * 1024)) ||
	    jadd_text(b_info, "tsc_mode", sv_tsc_mode_name(cfg->tsc_mode)) ||
	    jadd_set(b_info, "kernel", cfg->kernel) || jadd_set(b_info, "cmdline", cfg->cmdline) ||
	    jadd_set(b_info, "ramdisk", cfg->ramdisk))
		goto out;
	if (jadd_array(o, "disks", cfg->nr_disks, disk_item, cfg->disks) ||
	    jadd_array(o, "nics", cfg->nr_vifs, nic_item, cfg->vifs) ||
	    jadd_text(o, "on_poweroff", sv_action_name(cfg->on_poweroff)) ||
	    jadd_text(o, "on_reboot", sv_action_name(cfg->on_reboot)) ||
	    jadd_text(o, "on_crash", sv_action_name(cfg->on_crash)) ||
	    (cfg->engine && jadd_text(o, "engine", sv_engine_name(cfg->engine))))
		goto out;
	return o;
out:
	json_object_put(o);
	return NULL;
}

int xl_config_print_json(const struct sv_config *cfg, const char *uuid)
{
	struct json_object *o = xl_config_json(cfg, uuid);
	const char *text;
	int ret = -ENOMEM;

	if (!o)
		return ret;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text) {
		printf("%s\n", text);
		ret = 0;
	}
	json_object_put(o);
	return ret;
}
