// SPDX-License-Identifier: MIT
/*
 * libxenstat.so.4.17: Xen's domain statistics API (Debian's <xenstat.h>) for
 * Debian's xentop, from the same facts as our `xl top`: the hypervisor's
 * domain list and host info over the control socket, maxmem from
 * xenstore, vifs from backend/vif and their host interface's counters,
 * vbds from backend/vbd and blkback's status socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstat.h>
#include <xenstore.h>
#include <xen/sched.h>
#include "../domstat.h"
#include "sv/svctl.h"

struct xenstat_handle {
	struct svctl *c;
	struct xs_handle *xs;
	char rundir[4096];
};

struct xenstat_vcpu {
	unsigned int online;
	unsigned long long ns;
};

struct xenstat_network {
	unsigned int id;
	unsigned long long rbytes, rpackets, rerrs, rdrop;
	unsigned long long tbytes, tpackets, terrs, tdrop;
};

struct xenstat_vbd {
	unsigned int back_type; /* 1: blkback, as Xen's libxenstat numbers them */
	unsigned int dev;
	unsigned int error;
	unsigned long long oo_reqs, rd_reqs, wr_reqs, rd_sects, wr_sects;
};

struct xenstat_domain {
	unsigned int id;
	char name[64];
	unsigned int state; /* SV_DOMF_* */
	unsigned int shutdown_reason;
	unsigned long long cpu_ns;
	unsigned int num_vcpus; /* slots in vcpus (the maximum) */
	xenstat_vcpu *vcpus;
	unsigned long long cur_mem, max_mem; /* bytes; max_mem -1: no limit */
	unsigned int num_networks;
	xenstat_network *networks;
	unsigned int num_vbds;
	xenstat_vbd *vbds;
};

struct xenstat_node {
	xenstat_handle *handle;
	unsigned int flags;
	unsigned long long cpu_hz;
	unsigned int num_cpus;
	unsigned long long tot_mem, free_mem;
	char xen_version[48];
	unsigned int num_domains;
	xenstat_domain *domains;
};

xenstat_handle *xenstat_init(void)
{
	xenstat_handle *h = calloc(1, sizeof(*h));
	char path[4200];

	if (!h)
		return NULL;
	snprintf(h->rundir, sizeof(h->rundir), "%s", svctl_rundir());
	h->c = svctl_open(h->rundir);
	if (!h->c) {
		free(h);
		return NULL;
	}
	/* As our xl: the stack's xenstored unless the caller named one. */
	if (!getenv("XENSTORED_PATH")) {
		snprintf(path, sizeof(path), "%s/xenstored.sock", h->rundir);
		setenv("XENSTORED_PATH", path, 0);
	}
	h->xs = xs_open(XS_OPEN_SOCKETONLY); /* NULL: no maxmem, vifs or vbds */
	return h;
}

void xenstat_uninit(xenstat_handle *handle)
{
	if (!handle)
		return;
	if (handle->xs)
		xs_close(handle->xs);
	svctl_close(handle->c);
	free(handle);
}

/* The domain's vifs and the host side's counters (the domain's view: what the host sent it is
 * received). */
static int collect_networks(xenstat_handle *h, xenstat_domain *d)
{
	char path[96];
	unsigned n = 0;
	char **ents;

	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u", d->id);
	ents = h->xs ? xs_directory(h->xs, XBT_NULL, path, &n) : NULL;
	if (!ents)
		return 0;
	d->networks = calloc(n ? n : 1, sizeof(*d->networks));
	if (!d->networks) {
		free(ents);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		xenstat_network *net = &d->networks[d->num_networks];
		char ifname[32], *end;
		unsigned long id;

		errno = 0;
		id = strtoul(ents[i], &end, 10);
		if (errno || end == ents[i] || *end || id > 0xffffffffUL)
			continue;
		net->id = (unsigned int)id;
		domstat_vif_ifname(h->xs, d->id, ents[i], ifname, sizeof(ifname));
		net->rbytes = domstat_if_counter(ifname, "tx_bytes");
		net->rpackets = domstat_if_counter(ifname, "tx_packets");
		net->rerrs = domstat_if_counter(ifname, "tx_errors");
		net->rdrop = domstat_if_counter(ifname, "tx_dropped");
		net->tbytes = domstat_if_counter(ifname, "rx_bytes");
		net->tpackets = domstat_if_counter(ifname, "rx_packets");
		net->terrs = domstat_if_counter(ifname, "rx_errors");
		net->tdrop = domstat_if_counter(ifname, "rx_dropped");
		d->num_networks++;
	}
	free(ents);
	return 0;
}

/* The domain's vbds; request counts from blkback where it has them, 0 otherwise (no sectors, no
 * out-of-requests). */
static int collect_vbds(xenstat_handle *h, xenstat_domain *d, const struct domstat_vbd *bb, int nbb)
{
	char path[96];
	unsigned n = 0;
	char **ents;

	snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u", d->id);
	ents = h->xs ? xs_directory(h->xs, XBT_NULL, path, &n) : NULL;
	if (!ents)
		return 0;
	d->vbds = calloc(n ? n : 1, sizeof(*d->vbds));
	if (!d->vbds) {
		free(ents);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		xenstat_vbd *v = &d->vbds[d->num_vbds];
		char *end;
		unsigned long dev;

		errno = 0;
		dev = strtoul(ents[i], &end, 10);
		if (errno || end == ents[i] || *end || dev > 0xffffffffUL)
			continue;
		v->back_type = 1;
		v->dev = (unsigned int)dev;
		for (int j = 0; j < nbb; j++) {
			if (bb[j].domid == d->id && bb[j].devid == v->dev) {
				v->rd_reqs = bb[j].reads;
				v->wr_reqs = bb[j].writes;
			}
		}
		d->num_vbds++;
	}
	free(ents);
	return 0;
}

static int fill_vcpus(xenstat_domain *d, unsigned max, unsigned online)
{
	d->num_vcpus = max ? max : online;
	d->vcpus = calloc(d->num_vcpus ? d->num_vcpus : 1, sizeof(*d->vcpus));
	if (!d->vcpus)
		return -1;
	/* Per-vCPU time is not in the domain list: the domain's time on vCPU 0. */
	for (unsigned i = 0; i < d->num_vcpus; i++)
		d->vcpus[i].online = i < online;
	if (d->num_vcpus)
		d->vcpus[0].ns = d->cpu_ns;
	return 0;
}

xenstat_node *xenstat_get_node(xenstat_handle *handle, unsigned int flags)
{
	struct sv_dominfo *doms;
	struct domstat_vbd *bb = NULL;
	struct sv_host_info host;
	xenstat_node *node;
	int n, nbb = 0, ret;

	if (!handle)
		return NULL;
	ret = svctl_host_info(handle->c, &host);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	doms = calloc(SV_CTL_LIST_MAX, sizeof(*doms));
	if (!doms)
		return NULL;
	n = svctl_domain_list(handle->c, 1, doms, SV_CTL_LIST_MAX);
	if (n < 0) {
		free(doms);
		errno = -n;
		return NULL;
	}
	node = calloc(1, sizeof(*node));
	if (!node) {
		free(doms);
		return NULL;
	}
	node->handle = handle;
	node->flags = flags;
	node->cpu_hz = host.tsc_khz * 1000ULL;
	node->num_cpus = host.nr_cpus;
	node->tot_mem = host.total_kb * 1024ULL;
	node->free_mem = host.free_kb * 1024ULL;
	snprintf(node->xen_version, sizeof(node->xen_version), "%u.%u%.*s", host.xen_major,
		 host.xen_minor, (int)sizeof(host.xen_extra), host.xen_extra);
	node->domains = calloc((size_t)n + 1, sizeof(*node->domains));
	if (!node->domains)
		goto fail;
	if (flags & XENSTAT_VBD) {
		bb = calloc(DOMSTAT_VBD_MAX, sizeof(*bb));
		if (!bb)
			goto fail;
		nbb = domstat_read_vbds(handle->rundir, bb, DOMSTAT_VBD_MAX);
	}

	/* Domain-0 is the host, as our xl shows it. */
	xenstat_domain *d0 = &node->domains[0];
	d0->id = 0;
	snprintf(d0->name, sizeof(d0->name), "Domain-0");
	d0->state = SV_DOMF_RUNNING;
	d0->cpu_ns = domstat_host_cpu_ns();
	d0->cur_mem = node->tot_mem;
	d0->max_mem = (unsigned long long)-1;
	node->num_domains = 1;
	if (fill_vcpus(d0, host.nr_cpus, host.nr_cpus))
		goto fail;
	d0->vcpus[0].ns = d0->cpu_ns;

	for (int i = 0; i < n; i++) {
		const struct sv_dominfo *s = &doms[i];
		xenstat_domain *d = &node->domains[node->num_domains++];

		d->id = s->domid;
		memcpy(d->name, s->name, sizeof(d->name) - 1);
		d->state = s->flags;
		d->shutdown_reason = s->shutdown_reason;
		d->cpu_ns = s->cpu_time_ns;
		d->cur_mem = s->mem_kb * 1024ULL;
		d->max_mem = domstat_maxmem_kb(handle->xs, s->domid, s->mem_kb) * 1024ULL;
		if (fill_vcpus(d, s->max_vcpus, s->online_vcpus))
			goto fail;
		if ((flags & XENSTAT_NETWORK) && collect_networks(handle, d))
			goto fail;
		if ((flags & XENSTAT_VBD) && collect_vbds(handle, d, bb, nbb))
			goto fail;
	}
	free(bb);
	free(doms);
	return node;
fail:
	free(bb);
	free(doms);
	xenstat_free_node(node);
	errno = ENOMEM;
	return NULL;
}

void xenstat_free_node(xenstat_node *node)
{
	if (!node)
		return;
	for (unsigned i = 0; node->domains && i < node->num_domains; i++) {
		free(node->domains[i].vcpus);
		free(node->domains[i].networks);
		free(node->domains[i].vbds);
	}
	free(node->domains);
	free(node);
}

xenstat_domain *xenstat_node_domain(xenstat_node *node, unsigned int domid)
{
	for (unsigned i = 0; i < node->num_domains; i++)
		if (node->domains[i].id == domid)
			return &node->domains[i];
	return NULL;
}

xenstat_domain *xenstat_node_domain_by_index(xenstat_node *node, unsigned index)
{
	return index < node->num_domains ? &node->domains[index] : NULL;
}

const char *xenstat_node_xen_version(xenstat_node *node)
{
	return node->xen_version;
}
unsigned long long xenstat_node_tot_mem(xenstat_node *node)
{
	return node->tot_mem;
}
unsigned long long xenstat_node_free_mem(xenstat_node *node)
{
	return node->free_mem;
}
/* No tmem (removed from Xen): nothing freeable. */
long xenstat_node_freeable_mb(xenstat_node *node)
{
	(void)node;
	return 0;
}
unsigned int xenstat_node_num_domains(xenstat_node *node)
{
	return node->num_domains;
}
unsigned int xenstat_node_num_cpus(xenstat_node *node)
{
	return node->num_cpus;
}
unsigned long long xenstat_node_cpu_hz(xenstat_node *node)
{
	return node->cpu_hz;
}

unsigned xenstat_domain_id(xenstat_domain *domain)
{
	return domain->id;
}
char *xenstat_domain_name(xenstat_domain *domain)
{
	return domain->name;
}
unsigned long long xenstat_domain_cpu_ns(xenstat_domain *domain)
{
	return domain->cpu_ns;
}

unsigned int xenstat_domain_num_vcpus(xenstat_domain *domain)
{
	unsigned int online = 0;

	for (unsigned i = 0; i < domain->num_vcpus; i++)
		online += domain->vcpus[i].online != 0;
	return online;
}

xenstat_vcpu *xenstat_domain_vcpu(xenstat_domain *domain, unsigned int vcpu)
{
	return vcpu < domain->num_vcpus ? &domain->vcpus[vcpu] : NULL;
}

unsigned long long xenstat_domain_cur_mem(xenstat_domain *domain)
{
	return domain->cur_mem;
}
unsigned long long xenstat_domain_max_mem(xenstat_domain *domain)
{
	return domain->max_mem;
}
/* No XSM. */
unsigned int xenstat_domain_ssid(xenstat_domain *domain)
{
	(void)domain;
	return 0;
}
unsigned int xenstat_domain_dying(xenstat_domain *domain)
{
	return !!(domain->state & SV_DOMF_DYING);
}
unsigned int xenstat_domain_crashed(xenstat_domain *domain)
{
	return (domain->state & SV_DOMF_SHUTDOWN) && domain->shutdown_reason == SHUTDOWN_crash;
}
unsigned int xenstat_domain_shutdown(xenstat_domain *domain)
{
	return (domain->state & SV_DOMF_SHUTDOWN) && domain->shutdown_reason != SHUTDOWN_crash;
}
unsigned int xenstat_domain_paused(xenstat_domain *domain)
{
	return !!(domain->state & SV_DOMF_PAUSED);
}
unsigned int xenstat_domain_blocked(xenstat_domain *domain)
{
	return !!(domain->state & SV_DOMF_BLOCKED);
}
unsigned int xenstat_domain_running(xenstat_domain *domain)
{
	return !!(domain->state & SV_DOMF_RUNNING);
}

unsigned int xenstat_domain_num_networks(xenstat_domain *domain)
{
	return domain->num_networks;
}
xenstat_network *xenstat_domain_network(xenstat_domain *domain, unsigned int network)
{
	return network < domain->num_networks ? &domain->networks[network] : NULL;
}
unsigned int xenstat_domain_num_vbds(xenstat_domain *domain)
{
	return domain->num_vbds;
}
xenstat_vbd *xenstat_domain_vbd(xenstat_domain *domain, unsigned int vbd)
{
	return vbd < domain->num_vbds ? &domain->vbds[vbd] : NULL;
}

unsigned int xenstat_vcpu_online(xenstat_vcpu *vcpu)
{
	return vcpu->online;
}
unsigned long long xenstat_vcpu_ns(xenstat_vcpu *vcpu)
{
	return vcpu->ns;
}

unsigned int xenstat_network_id(xenstat_network *n)
{
	return n->id;
}
unsigned long long xenstat_network_rbytes(xenstat_network *n)
{
	return n->rbytes;
}
unsigned long long xenstat_network_rpackets(xenstat_network *n)
{
	return n->rpackets;
}
unsigned long long xenstat_network_rerrs(xenstat_network *n)
{
	return n->rerrs;
}
unsigned long long xenstat_network_rdrop(xenstat_network *n)
{
	return n->rdrop;
}
unsigned long long xenstat_network_tbytes(xenstat_network *n)
{
	return n->tbytes;
}
unsigned long long xenstat_network_tpackets(xenstat_network *n)
{
	return n->tpackets;
}
unsigned long long xenstat_network_terrs(xenstat_network *n)
{
	return n->terrs;
}
unsigned long long xenstat_network_tdrop(xenstat_network *n)
{
	return n->tdrop;
}

unsigned int xenstat_vbd_type(xenstat_vbd *v)
{
	return v->back_type;
}
unsigned int xenstat_vbd_dev(xenstat_vbd *v)
{
	return v->dev;
}
unsigned long long xenstat_vbd_oo_reqs(xenstat_vbd *v)
{
	return v->oo_reqs;
}
unsigned long long xenstat_vbd_rd_reqs(xenstat_vbd *v)
{
	return v->rd_reqs;
}
unsigned long long xenstat_vbd_wr_reqs(xenstat_vbd *v)
{
	return v->wr_reqs;
}
unsigned long long xenstat_vbd_rd_sects(xenstat_vbd *v)
{
	return v->rd_sects;
}
unsigned long long xenstat_vbd_wr_sects(xenstat_vbd *v)
{
	return v->wr_sects;
}
bool xenstat_vbd_error(xenstat_vbd *v)
{
	return v->error != 0;
}

/*
 * Xen's libxenstat exports its internal collectors too (its build exports
 * every global); Debian's binary has them, so ours does.  Networks and
 * vbds are collected in xenstat_get_node; these do nothing more.
 */
int xenstat_collect_networks(xenstat_node *node);
void xenstat_uninit_networks(xenstat_handle *handle);
int xenstat_collect_vbds(xenstat_node *node);
void xenstat_uninit_vbds(xenstat_handle *handle);
xenstat_vbd *xenstat_save_vbd(xenstat_domain *domain, xenstat_vbd *vbd);
void read_attributes_qdisk(xenstat_node *node);

int xenstat_collect_networks(xenstat_node *node)
{
	(void)node;
	return 1;
}
void xenstat_uninit_networks(xenstat_handle *handle)
{
	(void)handle;
}
int xenstat_collect_vbds(xenstat_node *node)
{
	(void)node;
	return 1;
}
void xenstat_uninit_vbds(xenstat_handle *handle)
{
	(void)handle;
}
void read_attributes_qdisk(xenstat_node *node)
{
	(void)node;
}

/* Appends a copy of vbd to the domain's; the new entry, NULL without memory. */
xenstat_vbd *xenstat_save_vbd(xenstat_domain *domain, xenstat_vbd *vbd)
{
	xenstat_vbd *v = realloc(domain->vbds, (domain->num_vbds + 1) * sizeof(*v));

	if (!v)
		return NULL;
	domain->vbds = v;
	v[domain->num_vbds] = *vbd;
	return &v[domain->num_vbds++];
}
