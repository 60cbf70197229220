// SPDX-License-Identifier: MIT
/*
 * xl restore: a checkpoint file (xl save's, docs/save-restore.md) to a
 * new domain, as Xen 4.17's xl and libxc restore a PV guest: the same
 * name, uuid, RAM, vCPUs and engine; its frames with their contents, the
 * page tables pinned again (each validated by the hypervisor as the
 * guest's own pin), the M2P, each vCPU's context (checked as
 * VCPUOP_initialise's), shared_info's arch fields, start_info's store and
 * console ports made anew; then its devices, xenstore and console as xl
 * create makes them, the start, the monitor and the console.
 *
 * Every value of the file is read once into a local copy and checked
 * before use; anything wrong ends the restore with one "xl: ..." line and
 * the half-built domain destroyed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xen/xen.h>
#include "sv/pvabi.h"
#include "sv/svxs.h"
#include "xl.h"
#include "xl_domain.h"
#include "xl_progress.h"
#include "xl_savefile.h"

#define RESTORE_USAGE "usage: xl restore [-p] [-c] [-e] [-d] [-V] [<ConfigFile>] <CheckpointFile>"

struct reader {
	FILE *f;
	const char *path;
	uint64_t pos;
	bool failed; /* said why already */
};

/* Exactly len bytes, or a message: the file ends early. */
static int rd(struct reader *r, void *buf, size_t len)
{
	if (r->failed)
		return -EIO;
	if (len && fread(buf, 1, len, r->f) != len) {
		if (ferror(r->f))
			xl_err("checkpoint file '%s': read error at byte %" PRIu64 ": %s", r->path,
			       r->pos, strerror(errno));
		else
			xl_err("checkpoint file '%s' is truncated (at byte %" PRIu64 ")", r->path,
			       r->pos);
		r->failed = true;
		return -EIO;
	}
	r->pos += len;
	return 0;
}

static int rd_pad(struct reader *r, uint64_t len)
{
	uint8_t z[8];

	return rd(r, z, (size_t)((8 - len % 8) % 8));
}

static int bad(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct reader *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!r->failed)
		xl_err("checkpoint file '%s' is corrupt: %s", r->path, msg);
	r->failed = true;
	return -EINVAL;
}

struct pin {
	uint64_t mfn;
	uint32_t level;
};

struct restore {
	struct svctl *c;
	struct reader *r;
	struct sv_config *cfg;
	bool debug;
	uint32_t domid;
	bool created;
	struct sv_save_domain sd;
	struct sv_ctl_memory mem;
	int memfd;
	uint8_t *base;
	uint8_t *bounce; /* one frame record's data */
	uint64_t nr_frames;
	uint64_t last_gfn; /* PAGE_DATA in ascending order: the last one + 1 */
	uint64_t *absent;
	size_t nr_absent;
	struct pin *pins;
	size_t nr_pins;
	struct sv_save_vcpu *vcpus; /* max_vcpus, vcpu UINT32_MAX until its record */
	bool have_shinfo;
	struct sv_save_shinfo sh;
};

/* The memfd offset of RAM frame gfn of the new domain, or false when it is not its RAM. */
static bool gfn_offset(const struct restore *s, uint64_t gfn, uint64_t *off)
{
	for (uint32_t i = 0; i < s->mem.nr_ranges; i++) {
		const struct sv_mem_range *m = &s->mem.ram[i];
		uint64_t first = m->gpa >> 12, n = m->size >> 12;
		if (gfn >= first && gfn - first < n) {
			*off = m->offset + (gfn - first) * 4096;
			return true;
		}
	}
	return false;
}

static bool gfn_absent(const struct restore *s, uint64_t gfn)
{
	for (size_t i = 0; i < s->nr_absent; i++)
		if (s->absent[i] == gfn)
			return true;
	return false;
}

static int check_domain(struct restore *s, bool named)
{
	struct sv_save_domain *d = &s->sd;
	const char *why;

	if (!memchr(d->name, '\0', sizeof(d->name)) || !sv_config_name_ok(d->name, &why))
		return bad(s->r, "bad domain name");
	if (d->max_vcpus < 1 || d->max_vcpus > SV_MAX_VCPUS)
		return bad(s->r, "%u vCPUs", d->max_vcpus);
	if (d->engine != SV_ENGINE_KVM && d->engine != SV_ENGINE_PROCESS)
		return bad(s->r, "engine %u", d->engine);
	if (d->tsc_mode > SV_TSC_MODE_NATIVE)
		return bad(s->r, "tsc_mode %u", d->tsc_mode);
	if (d->flags & ~SV_SAVE_F_LOW_VA)
		return bad(s->r, "domain flags %#x", d->flags);
	if (!d->ram_kb || d->ram_kb % 4 || d->ram_kb > (1ULL << 30))
		return bad(s->r, "RAM of %" PRIu64 " KiB", d->ram_kb);
	if (!d->cur_pages || d->cur_pages > d->ram_kb / 4 || d->max_pages > (1ULL << 28))
		return bad(s->r, "%" PRIu64 " frames populated of %" PRIu64, d->cur_pages,
			   d->ram_kb / 4);
	if (d->suspend_vcpu >= d->max_vcpus)
		return bad(s->r, "suspending vCPU %u", d->suspend_vcpu);
	if (d->gnttab_frames > 32)
		return bad(s->r, "%u grant-table frames", d->gnttab_frames);
	if (d->hcall_page_gpa & 4095)
		return bad(s->r, "hypercall page at %#" PRIx64, d->hcall_page_gpa);
	if (!named)
		snprintf(s->cfg->name, sizeof(s->cfg->name), "%s", d->name);
	if (s->cfg->maxvcpus != d->max_vcpus) {
		xl_err("checkpoint file '%s': the domain had %u vCPUs, its config says %u",
		       s->r->path, d->max_vcpus, s->cfg->maxvcpus);
		s->r->failed = true;
		return -EINVAL;
	}
	return 0;
}

static int create(struct restore *s)
{
	struct sv_ctl_create req = { .kind = SV_DOM_PV,
				     .max_vcpus = s->sd.max_vcpus,
				     .mem_kb = s->sd.ram_kb,
				     .max_kb = s->sd.ram_kb,
				     .engine = s->sd.engine,
				     .tsc_mode = s->sd.tsc_mode };
	int ret;

	snprintf(req.name, sizeof(req.name), "%s", s->cfg->name);
	memcpy(req.handle, s->sd.handle, sizeof(req.handle));
	if (s->sd.flags & SV_SAVE_F_LOW_VA)
		req.flags |= SV_CTL_CREATE_F_LOW_VA;
	ret = svctl_domain_create(s->c, &req, &s->domid);
	if (ret) {
		struct sv_config tmp = *s->cfg;
		tmp.engine = s->sd.engine;
		xl_create_error(s->c, &tmp, ret);
		s->r->failed = true; /* said */
		return ret;
	}
	s->created = true;
	ret = svctl_domain_memory(s->c, s->domid, &s->mem, &s->memfd);
	if (ret || s->mem.nr_ranges > 2) {
		xl_err("domain '%s': cannot reach its memory: %s", s->cfg->name,
		       strerror(ret ? -ret : EPROTO));
		s->r->failed = true;
		return ret ? ret : -EPROTO;
	}
	s->base = mmap(NULL, s->mem.memfd_size, PROT_READ | PROT_WRITE, MAP_SHARED, s->memfd, 0);
	if (s->base == MAP_FAILED) {
		s->base = NULL;
		ret = -errno;
		xl_err("domain '%s': cannot map its memory: %s", s->cfg->name, strerror(-ret));
		s->r->failed = true;
		return ret;
	}
	for (uint32_t i = 0; i < s->mem.nr_ranges; i++) {
		const struct sv_mem_range *m = &s->mem.ram[i];
		if ((m->offset | m->size | m->gpa) & 4095 || m->offset > s->mem.memfd_size ||
		    m->size > s->mem.memfd_size - m->offset)
			return -EPROTO;
		s->nr_frames += m->size >> 12;
	}
	s->bounce = malloc(SV_SAVE_PAGES_MAX * 4096);
	s->absent = calloc(s->nr_frames, sizeof(*s->absent));
	s->pins = calloc(s->nr_frames, sizeof(*s->pins));
	if (!s->absent || !s->pins || !s->bounce)
		return -ENOMEM;
	ret = xl_vcpu_pin_config(s->c, s->domid, s->cfg);
	if (!ret)
		ret = xl_sched_apply_config(s->c, s->domid, s->cfg);
	if (ret)
		s->r->failed = true; /* they said why */
	return ret;
}

static int page_data(struct restore *s, uint64_t length)
{
	struct sv_save_pages h;
	uint64_t entries[SV_SAVE_PAGES_MAX], ndata = 0;

	if (length < sizeof(h) || rd(s->r, &h, sizeof(h)))
		return length < sizeof(h) ? bad(s->r, "short frame record") : -EIO;
	uint64_t count = h.count;
	if (count < 1 || count > SV_SAVE_PAGES_MAX)
		return bad(s->r, "frame record of %" PRIu64 " frames", count);
	if (rd(s->r, entries, 8 * (size_t)count))
		return -EIO;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t e = entries[i], gfn = e & SV_SAVE_GFN_MASK, off;
		uint32_t t = (uint32_t)(e >> 60), lvl = t & 7;

		if ((e & ~SV_SAVE_GFN_MASK & ~(0xfULL << 60)) || !gfn_offset(s, gfn, &off))
			return bad(s->r, "frame %#" PRIx64 " is outside the domain's RAM", gfn);
		if (gfn < s->last_gfn)
			return bad(s->r, "frame %#" PRIx64 " out of order or twice", gfn);
		s->last_gfn = gfn + 1;
		if (t == 0xf) {
			s->absent[s->nr_absent++] = gfn;
			continue;
		}
		if (lvl > 4 || (t & 8 && !lvl) || (t & ~0xfu))
			return bad(s->r, "frame %#" PRIx64 ": type %#x", gfn, t);
		if (t & 8)
			s->pins[s->nr_pins++] = (struct pin){ .mfn = gfn, .level = lvl };
		ndata++;
	}
	if (length != sizeof(h) + 8 * count + 4096 * ndata)
		return bad(s->r, "frame record of %" PRIu64 " bytes for %" PRIu64 " frames", length,
			   count);
	/* Into the new domain's frames (it has never run), a run of adjacent ones at once. */
	for (uint64_t i = 0; i < count;) {
		uint64_t gfn = entries[i] & SV_SAVE_GFN_MASK, off = 0, next = 0, n = 1;
		if (entries[i] >> 60 == 0xf) {
			i++;
			continue;
		}
		gfn_offset(s, gfn, &off);
		while (i + n < count && entries[i + n] >> 60 != 0xf &&
		       (entries[i + n] & SV_SAVE_GFN_MASK) == gfn + n &&
		       gfn_offset(s, gfn + n, &next) && next == off + n * 4096)
			n++;
		/* Through the memfd, not the mapping: no page fault per frame. */
		if (rd(s->r, s->bounce, 4096 * n))
			return -EIO;
		for (uint64_t done = 0; done < 4096 * n;) {
			ssize_t w = pwrite(s->memfd, s->bounce + done, 4096 * n - done,
					   (off_t)(off + done));
			if (w <= 0) {
				xl_err("domain '%s': cannot write its memory: %s", s->cfg->name,
				       w ? strerror(errno) : "short write");
				s->r->failed = true;
				return -EIO;
			}
			done += (uint64_t)w;
		}
		i += n;
	}
	return 0;
}

static int m2p_rec(struct restore *s, uint64_t length)
{
	struct sv_save_m2p h;
	struct sv_ctl_m2p *q;
	int ret;

	if (length < sizeof(h))
		return bad(s->r, "short M2P record");
	if (rd(s->r, &h, sizeof(h)))
		return -EIO;
	uint64_t first = h.first, count = h.count;
	if (count < 1 || count > SV_M2P_MAX || length != sizeof(h) + 8 * count)
		return bad(s->r, "M2P record of %" PRIu64 " entries in %" PRIu64 " bytes", count,
			   length);
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->domid = s->domid;
	q->first = first;
	q->count = (uint32_t)count;
	ret = rd(s->r, q->entry, 8 * (size_t)count);
	if (!ret) {
		/* The hypervisor takes entries of the domain's own RAM frames only. */
		ret = svctl_call(s->c, SV_CTL_M2P_SET, q, sizeof(*q), NULL, 0, NULL, NULL);
		if (ret)
			ret = bad(s->r, "M2P entries %#" PRIx64 "+%" PRIu64 ": %s", first, count,
				  strerror(-ret));
	}
	free(q);
	return ret;
}

/* Records after DOMAIN, up to END. */
static int records(struct restore *s)
{
	for (;;) {
		struct sv_save_rec h;
		int ret;

		if (rd(s->r, &h, sizeof(h)))
			return -EIO;
		uint32_t type = h.type;
		uint64_t length = h.length;
		if (h.flags)
			return bad(s->r, "record flags %#x", h.flags);
		switch (type) {
		case SV_REC_END:
			if (length)
				return bad(s->r, "end record of %" PRIu64 " bytes", length);
			return 0;
		case SV_REC_PAGE_DATA:
			ret = page_data(s, length);
			break;
		case SV_REC_VCPU: {
			struct sv_save_vcpu *v = malloc(sizeof(*v));
			if (!v)
				return -ENOMEM;
			if (length != sizeof(*v)) {
				free(v);
				return bad(s->r, "vCPU record of %" PRIu64 " bytes", length);
			}
			ret = rd(s->r, v, sizeof(*v));
			uint32_t id = v->vcpu;
			if (!ret && (id >= s->sd.max_vcpus || v->online > 1 ||
				     s->vcpus[id].vcpu != UINT32_MAX))
				ret = bad(s->r, "vCPU record for vCPU %u", id);
			if (!ret)
				s->vcpus[id] = *v;
			free(v);
			break;
		}
		case SV_REC_M2P:
			ret = m2p_rec(s, length);
			break;
		case SV_REC_SHARED_INFO:
			if (length != sizeof(s->sh) || s->have_shinfo)
				return bad(s->r, "shared_info record");
			ret = rd(s->r, &s->sh, sizeof(s->sh));
			s->have_shinfo = true;
			break;
		default:
			return bad(s->r, "record of unknown type %u", type);
		}
		if (ret)
			return ret;
		xl_progress_tick("%" PRIu64 " bytes", s->r->pos);
		if (rd_pad(s->r, length))
			return -EIO;
	}
}

/* start_info as libxc's restore leaves it: new ports, this domain's shared_info, nr_pages. */
static int fix_start_info(struct restore *s, uint32_t store_port, uint32_t console_port,
			  uint64_t *store_mfn, uint64_t *console_mfn)
{
	uint64_t gfn = s->sd.start_info_gfn, off, o2;
	start_info_t si;

	if (!gfn_offset(s, gfn, &off) || gfn_absent(s, gfn))
		return bad(s->r, "start_info frame %#" PRIx64 " is not the domain's RAM", gfn);
	memcpy(&si, s->base + off, sizeof(si));
	if (strncmp(si.magic, "xen-3.0-x86_64", 14))
		return bad(s->r, "no start_info at frame %#" PRIx64, gfn);
	*store_mfn = si.store_mfn;
	*console_mfn = si.console.domU.mfn;
	if (!gfn_offset(s, *store_mfn, &o2) || gfn_absent(s, *store_mfn) ||
	    !gfn_offset(s, *console_mfn, &o2) || gfn_absent(s, *console_mfn) ||
	    *store_mfn == gfn || *console_mfn == gfn || *store_mfn == *console_mfn)
		return bad(s->r, "start_info's store frame %#" PRIx64 " or console frame %#" PRIx64,
			   *store_mfn, *console_mfn);
	si.store_evtchn = store_port;
	si.console.domU.evtchn = console_port;
	si.shared_info = SV_SHARED_INFO_GPA;
	si.nr_pages = s->sd.cur_pages;
	memcpy(s->base + off, &si, sizeof(si));
	return 0;
}

/* After END: the hypervisor state the records describe. */
static int rebuild(struct restore *s)
{
	int ret = 0;

	if (s->nr_absent && s->sd.ram_kb / 4 - s->nr_absent != s->sd.cur_pages)
		return bad(s->r, "%zu frames absent of %" PRIu64 " with %" PRIu64 " populated",
			   s->nr_absent, s->sd.ram_kb / 4, s->sd.cur_pages);
	for (size_t i = 0; i < s->nr_absent && !ret; i += SV_FRAMES_MAX) {
		struct sv_ctl_frames *q = calloc(1, sizeof(*q));
		size_t n = s->nr_absent - i > SV_FRAMES_MAX ? SV_FRAMES_MAX : s->nr_absent - i;
		if (!q)
			return -ENOMEM;
		q->domid = s->domid;
		q->count = (uint32_t)n;
		memcpy(q->gfn, s->absent + i, n * 8);
		ret = svctl_call(s->c, SV_CTL_FRAME_RELEASE, q, sizeof(*q), NULL, 0, NULL, NULL);
		free(q);
		if (ret)
			return bad(s->r, "absent frames: %s", strerror(-ret));
	}
	{
		struct sv_ctl_restore_info q = {
			.domid = s->domid,
			.gnttab_frames = s->sd.gnttab_frames,
			.max_pfn = s->sh.max_pfn,
			.pfn_to_mfn_frame_list_list = s->sh.pfn_to_mfn_frame_list_list,
			.p2m_cr3 = s->sh.p2m_cr3,
			.p2m_vaddr = s->sh.p2m_vaddr,
			.p2m_generation = s->sh.p2m_generation,
		};
		ret = svctl_call(s->c, SV_CTL_DOMAIN_RESTORE_INFO, &q, sizeof(q), NULL, 0, NULL,
				 NULL);
		if (ret)
			return bad(s->r, "shared_info: %s", strerror(-ret));
	}
	/* Top-level tables first: each validates everything below it, as the guest's pins did. */
	for (uint32_t lvl = 4; lvl >= 1; lvl--) {
		for (size_t i = 0; i < s->nr_pins; i++) {
			struct sv_ctl_pin_table q = { .domid = s->domid,
						      .level = lvl,
						      .mfn = s->pins[i].mfn };
			if (s->pins[i].level != lvl)
				continue;
			ret = svctl_call(s->c, SV_CTL_PIN_TABLE, &q, sizeof(q), NULL, 0, NULL, NULL);
			if (ret)
				return bad(s->r, "the L%u page table at frame %#" PRIx64
						 " does not validate",
					   lvl, s->pins[i].mfn);
		}
	}
	if (s->vcpus[0].vcpu == UINT32_MAX || s->vcpus[s->sd.suspend_vcpu].vcpu == UINT32_MAX)
		return bad(s->r, "no context for vCPU %u", s->vcpus[0].vcpu == UINT32_MAX
								? 0
								: s->sd.suspend_vcpu);
	for (uint32_t v = 0; v < s->sd.max_vcpus; v++) {
		struct sv_ctl_vcpu_restore *q;
		if (s->vcpus[v].vcpu == UINT32_MAX)
			continue;
		q = calloc(1, sizeof(*q));
		if (!q)
			return -ENOMEM;
		q->domid = s->domid;
		q->vcpu = v;
		q->online = s->vcpus[v].online;
		q->ctx = s->vcpus[v].ctx;
		if (v == s->sd.suspend_vcpu)
			q->ctx.user_regs.rax = 0; /* SCHEDOP_shutdown returns 0: a new domain */
		ret = svctl_call(s->c, SV_CTL_VCPU_RESTORE_CONTEXT, q, sizeof(*q), NULL, 0, NULL,
				 NULL);
		free(q);
		if (ret)
			return bad(s->r, "vCPU %u's context is refused (%s)", v, strerror(-ret));
	}
	if (s->sd.hcall_page_gpa) {
		ret = svctl_set_hypercall_page(s->c, s->domid, s->sd.hcall_page_gpa);
		if (ret)
			return bad(s->r, "hypercall page at %#" PRIx64, s->sd.hcall_page_gpa);
	}
	if (s->sd.max_pages) {
		ret = svctl_domain_set_maxmem(s->c, s->domid, s->sd.max_pages * 4);
		if (ret)
			return bad(s->r, "maximum of %" PRIu64 " frames", s->sd.max_pages);
	}
	return 0;
}

static void restore_free(struct restore *s)
{
	if (s->base)
		munmap(s->base, s->mem.memfd_size);
	if (s->memfd >= 0)
		close(s->memfd);
	free(s->bounce);
	free(s->absent);
	free(s->pins);
	free(s->vcpus);
}

static void warn_cb(void *opaque, const char *msg)
{
	(void)opaque;
	fprintf(stderr, "xl: %s\n", msg);
}

int xl_cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { "vncviewer", no_argument, NULL, 'V' },
					      { NULL, 0, NULL, 0 } };
	bool paused = false, console = false, no_monitor = false, debug = false;
	struct reader r = { 0 };
	struct restore s = { .memfd = -1, .r = &r };
	struct sv_config cfg;
	struct xs_handle *xs = NULL;
	char *text = NULL, err[512];
	const char *cfgfile = NULL, *path;
	struct sv_save_header hdr;
	int opt, ret, status = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+pcedVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			paused = true;
			break;
		case 'c':
			console = true;
			break;
		case 'e':
			no_monitor = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'V':
			break; /* a vncviewer for the guest's vfb: PV guests here have none */
		default:
			xl_err(RESTORE_USAGE);
			return 2;
		}
	}
	if (argc - optind == 1) {
		path = argv[optind];
	} else if (argc - optind == 2) {
		cfgfile = argv[optind];
		path = argv[optind + 1];
	} else {
		xl_err(RESTORE_USAGE);
		return 2;
	}
	sv_config_init(&cfg);
	cfg.warn = warn_cb;
	s.cfg = &cfg;
	r.path = path;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !(r.f = fdopen(fd, "r"))) {
		xl_err("cannot open checkpoint file '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	setvbuf(r.f, NULL, _IOFBF, 1 << 20);
	if (rd(&r, &hdr, sizeof(hdr)))
		goto out;
	if (memcmp(hdr.magic, SV_SAVE_MAGIC, sizeof(hdr.magic))) {
		xl_err("'%s' is not a checkpoint file of xl save (bad magic)", path);
		goto out;
	}
	if (hdr.version != SV_SAVE_VERSION) {
		xl_err("checkpoint file '%s' is of version %u: this xl reads version %u", path,
		       hdr.version, SV_SAVE_VERSION);
		goto out;
	}
	uint32_t cfglen = hdr.config_len;
	if (hdr.header_len != sizeof(hdr) || hdr.flags || !cfglen || cfglen > XL_CONFIG_MAX) {
		bad(&r, "header (length %u, flags %#x, config of %u bytes)", hdr.header_len,
		    hdr.flags, cfglen);
		goto out;
	}
	fprintf(stderr, "Loading new save file %s (new xl fmt info 0x%x/0x0/%u)\n", path, 0u,
		cfglen);
	fprintf(stderr, " Savefile contains xl domain config\n");
	text = malloc((size_t)cfglen + 1);
	if (!text) {
		xl_err("cannot restore from '%s': %s", path, strerror(ENOMEM));
		goto out;
	}
	if (rd(&r, text, cfglen) || rd_pad(&r, cfglen))
		goto out;
	text[cfglen] = '\0';
	if (cfgfile) {
		fprintf(stderr, "Parsing config from %s\n", cfgfile);
		if (xl_config_set_text(cfgfile, NULL, 0) ||
		    sv_config_parse(&cfg, xl_cfg_text, xl_cfg_len, cfgfile, err, sizeof(err))) {
			if (xl_cfg_text)
				xl_err("%s", err);
			goto out;
		}
	} else {
		fprintf(stderr, "Parsing config from <saved>\n");
		if (sv_config_parse(&cfg, text, cfglen, "<saved>", err, sizeof(err))) {
			xl_err("%s", err);
			goto out;
		}
		xl_cfg_text = text;
		xl_cfg_len = cfglen;
		text = NULL; /* recorded for the new domain, as xl create records its text */
	}
	if (sv_config_validate(&cfg, err, sizeof(err))) {
		xl_err("%s", err);
		goto out;
	}

	struct sv_save_rec h;
	if (rd(&r, &h, sizeof(h)))
		goto out;
	if (h.type != SV_REC_DOMAIN || h.length != sizeof(s.sd) || h.flags) {
		bad(&r, "the first record is not the domain's");
		goto out;
	}
	if (rd(&r, &s.sd, sizeof(s.sd)) || check_domain(&s, cfgfile != NULL))
		goto out;
	s.vcpus = malloc(s.sd.max_vcpus * sizeof(*s.vcpus));
	if (!s.vcpus) {
		xl_err("cannot restore from '%s': %s", path, strerror(ENOMEM));
		goto out;
	}
	for (uint32_t v = 0; v < s.sd.max_vcpus; v++)
		s.vcpus[v].vcpu = UINT32_MAX;
	s.debug = debug;
	s.c = xl_connect();
	if (!s.c)
		goto out;
	xs = svxs_open();
	if (!xs)
		fprintf(stderr,
			"xl: warning: xenstored is not reachable: the guest gets no store\n");
	fprintf(stderr, "xc: info: Restoring domain\n");
	xl_progress_start("Restoring domain %s", cfg.name);
	ret = create(&s);
	if (!ret)
		ret = records(&s);
	xl_progress_done();
	if (!ret) {
		char extra;
		if (fread(&extra, 1, 1, r.f) == 1)
			ret = bad(&r, "data after the end record");
	}
	uint32_t store_port = 0, console_port = 0;
	uint64_t store_mfn = 0, console_mfn = 0;
	if (!ret)
		ret = rebuild(&s);
	if (!ret) {
		ret = xl_alloc_port_for_dom0(s.c, s.domid, &store_port);
		if (!ret)
			ret = xl_alloc_port_for_dom0(s.c, s.domid, &console_port);
		if (ret) {
			xl_err("domain '%s': cannot allocate event channels: %s", cfg.name,
			       strerror(-ret));
			r.failed = true;
		}
	}
	if (!ret)
		ret = fix_start_info(&s, store_port, console_port, &store_mfn, &console_mfn);
	if (ret) {
		if (!r.failed) /* every other failure said why already */
			xl_err("cannot restore '%s': %s", cfg.name, strerror(-ret));
		goto out;
	}
	if (debug)
		fprintf(stderr,
			"xl: restored %" PRIu64 " frames (%zu absent, %zu pinned tables), "
			"start_info at %#" PRIx64 "\n",
			s.nr_frames, s.nr_absent, s.nr_pins, s.sd.start_info_gfn);
	fprintf(stderr, "xc: info: Restore successful\n");
	fprintf(stderr, "xc: info: XenStore: mfn %#" PRIx64 ", dom 0, evt %u\n", store_mfn,
		store_port);
	fprintf(stderr, "xc: info: Console: mfn %#" PRIx64 ", dom 0, evt %u\n", console_mfn,
		console_port);
	char uuid[37];
	xl_uuid_text(s.sd.handle, uuid);
	struct xl_dom_setup su = { .domid = s.domid,
				   .uuid = uuid,
				   .store_mfn = store_mfn,
				   .console_mfn = console_mfn,
				   .store_port = store_port,
				   .console_port = console_port };
	s.created = false; /* from here on xl_domain_finish destroys it on failure */
	if (xl_domain_finish(s.c, xs, &cfg, &su, paused))
		goto out;
	status = xl_domain_launch(s.c, &cfg, NULL, s.domid, console, !no_monitor);
out:
	if (s.created)
		svctl_domain_destroy(s.c, s.domid); /* the half-built domain goes */
	restore_free(&s);
	if (r.f)
		fclose(r.f);
	free(text);
	svxs_close(xs);
	svctl_close(s.c);
	sv_config_free(&cfg);
	return status;
}
