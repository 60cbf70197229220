// SPDX-License-Identifier: MIT
/*
 * xl save: a domain to a checkpoint file (docs/save-restore.md), as Xen
 * 4.17's xl and libxl save a PV guest: ask the guest to suspend through
 * control/shutdown, wait for its acknowledgement and its SHUTDOWN_suspend,
 * then write the config, the domain, every RAM frame with its page type,
 * each vCPU's context, the M2P and shared_info's arch fields; then destroy
 * the domain, or with -c / -p resume it with the suspend cancelled.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xen/sched.h>
#include "sv/svxs.h"
#include "xl.h"
#include "xl_domain.h"
#include "xl_progress.h"
#include "xl_savefile.h"

#define SAVE_USAGE "usage: xl save [-c] [-p] <Domain> <CheckpointFile> [<ConfigFile>]"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* libxl waits 60 s for each step; SV_XL_SUSPEND_TIMEOUT_MS sets another (tests). */
static uint64_t suspend_timeout_ms(void)
{
	const char *e = getenv("SV_XL_SUSPEND_TIMEOUT_MS");
	char *end;
	unsigned long long v;

	if (e && *e) {
		errno = 0;
		v = strtoull(e, &end, 10);
		if (!errno && !*end && v > 0 && v <= 3600000)
			return v;
	}
	return 60000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * As libxl__domain_suspend_common for a PV guest without a suspend event
 * channel: "suspend" in control/shutdown; the guest acknowledges by
 * clearing it, then shuts down with SHUTDOWN_suspend.  A guest that does
 * not acknowledge in time has the request withdrawn and runs on as it was.
 */
static int suspend_guest(struct svctl *c, struct xs_handle *xs, uint32_t domid, const char *name)
{
	char dir[SVXS_DOMAIN_DIR_MAX];
	uint64_t timeout = suspend_timeout_ms(), deadline;
	bool acked = false;
	int ret;

	svxs_domain_dir(dir, domid);
	ret = svxs_write(xs, XBT_NULL, dir, "control/shutdown", "suspend");
	if (ret) {
		xl_err("domain '%s': cannot ask it to suspend: xenstore: %s", name, strerror(-ret));
		return ret;
	}
	xl_progress_start("Suspending domain %s", name);
	deadline = now_ms() + timeout;
	while (!acked && now_ms() < deadline) {
		char *v = svxs_read(xs, XBT_NULL, dir, "control/shutdown");
		acked = !v || strcmp(v, "suspend") != 0;
		free(v);
		if (!acked) {
			xl_progress_tick("waiting for the guest to acknowledge");
			sleep_ms(5);
		}
	}
	if (!acked) {
		/* Withdrawn, unless the guest took it at the last moment. */
		char *v = svxs_read(xs, XBT_NULL, dir, "control/shutdown");
		acked = !v || strcmp(v, "suspend") != 0;
		free(v);
		if (!acked)
			svxs_write(xs, XBT_NULL, dir, "control/shutdown", "");
	}
	if (!acked) {
		xl_progress_done();
		xl_err("domain '%s': guest didn't acknowledge suspend, request cancelled", name);
		return -ETIMEDOUT;
	}
	deadline = now_ms() + timeout;
	for (;;) {
		struct sv_dominfo di;

		ret = svctl_domain_info(c, domid, &di);
		if (ret) {
			xl_progress_done();
			xl_err("domain '%s' went away while suspending", name);
			return ret;
		}
		if (di.flags & SV_DOMF_SHUTDOWN) {
			xl_progress_done();
			if (di.shutdown_reason == SHUTDOWN_suspend)
				return 0;
			xl_err("domain '%s' shut down (%s) instead of suspending", name,
			       xl_reason_name(di.shutdown_reason));
			return -ECANCELED;
		}
		if (now_ms() >= deadline) {
			xl_progress_done();
			xl_err("domain '%s': guest did not suspend, timed out", name);
			return -ETIMEDOUT;
		}
		xl_progress_tick("waiting for the guest to suspend");
		sleep_ms(5);
	}
}

struct writer {
	FILE *f;
	const char *path;
	int err; /* the first write error (-errno) */
};

static void put(struct writer *w, const void *p, size_t len)
{
	if (!w->err && len && fwrite(p, 1, len, w->f) != len)
		w->err = errno ? -errno : -EIO;
}

/* A large block: what stdio holds goes first, then the block with write(2). */
static void put_direct(struct writer *w, const void *p, size_t len)
{
	const uint8_t *b = p;

	if (w->err)
		return;
	if (fflush(w->f)) {
		w->err = errno ? -errno : -EIO;
		return;
	}
	while (len) {
		ssize_t n = write(fileno(w->f), b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n ? -errno : -EIO;
			return;
		}
		b += n;
		len -= (size_t)n;
	}
}

/* Frames of the memfd at off: sendfile (no copy through this process), else from the mapping. */
static void put_frames(struct writer *w, int memfd, const uint8_t *base, uint64_t off, size_t len)
{
	off_t o = (off_t)off;

	if (w->err)
		return;
	if (fflush(w->f)) {
		w->err = errno ? -errno : -EIO;
		return;
	}
	while (len) {
		ssize_t n = sendfile(fileno(w->f), memfd, &o, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			put_direct(w, base + o, len); /* a file system sendfile cannot write */
			return;
		}
		len -= (size_t)n;
	}
}

static void pad(struct writer *w, uint64_t len)
{
	static const uint8_t zeros[8];

	put(w, zeros, (size_t)((8 - len % 8) % 8));
}

static void rec(struct writer *w, uint32_t type, uint64_t length)
{
	struct sv_save_rec r = { .type = type, .length = length };

	put(w, &r, sizeof(r));
}

static int get_context(struct svctl *c, uint32_t domid, uint32_t vcpu,
		       struct vcpu_guest_context *ctx)
{
	struct sv_ctl_vcpu_get q = { .domid = domid, .vcpu = vcpu };
	struct sv_ctl_vcpu_context *r = malloc(sizeof(*r));
	uint32_t got = 0;
	int ret;

	if (!r)
		return -ENOMEM;
	/*
	 * -EBUSY while the vCPU's thread is still on its way out of guest code
	 * (the suspending one finishes its hypercall): it is back at once.
	 */
	for (unsigned tries = 0;; tries++) {
		ret = svctl_call(c, SV_CTL_VCPU_GET_CONTEXT, &q, sizeof(q), r, sizeof(*r), &got,
				 NULL);
		if (ret != -EBUSY || tries >= 3000)
			break;
		sleep_ms(10);
	}
	if (!ret && got != sizeof(*r))
		ret = -EPROTO;
	if (!ret)
		*ctx = r->ctx;
	free(r);
	return ret;
}

struct save_ctx {
	struct svctl *c;
	uint32_t domid;
	const char *name;
	struct sv_ctl_memory mem;
	const uint8_t *base; /* the memfd, mapped read-only */
	int memfd;
	uint64_t frames, done;
};

/* The frames of RAM range [gpa, gpa + size) at memfd offset off, as PAGE_DATA records. */
static int save_range(struct save_ctx *s, struct writer *w, const struct sv_mem_range *r)
{
	struct sv_ctl_page_types *pt = malloc(sizeof(*pt));
	uint64_t first = r->gpa >> 12, n = r->size >> 12;
	int ret = 0;

	if (!pt)
		return -ENOMEM;
	for (uint64_t i = 0; i < n && !ret && !w->err;) {
		uint32_t cnt = n - i > SV_PFINFO_MAX ? SV_PFINFO_MAX : (uint32_t)(n - i), got = 0;

		memset(pt, 0, sizeof(*pt));
		pt->domid = s->domid;
		pt->count = cnt;
		pt->first = first + i;
		ret = svctl_call(s->c, SV_CTL_PAGE_TYPES, pt, sizeof(*pt), pt, sizeof(*pt), &got,
				 NULL);
		if (!ret && got != sizeof(*pt))
			ret = -EPROTO;
		if (ret)
			break;
		for (uint32_t j = 0; j < cnt && !w->err; j += SV_SAVE_PAGES_MAX) {
			uint32_t k = cnt - j > SV_SAVE_PAGES_MAX ? SV_SAVE_PAGES_MAX : cnt - j;
			uint64_t entries[SV_SAVE_PAGES_MAX], ndata = 0;
			struct sv_save_pages h = { .count = k };

			for (uint32_t e = 0; e < k; e++) {
				uint32_t t = pt->type[j + e];
				entries[e] = ((first + i + j + e) & SV_SAVE_GFN_MASK) |
					     ((uint64_t)(t >> 28) << 60);
				ndata += t != SV_PFINFO_XTAB;
			}
			rec(w, SV_REC_PAGE_DATA, sizeof(h) + 8 * (uint64_t)k + ndata * 4096);
			put(w, &h, sizeof(h));
			put(w, entries, 8 * (size_t)k);
			/* Runs of present frames straight from the memfd: no copy through stdio. */
			for (uint32_t e = 0; e < k;) {
				uint32_t run = 0;
				while (e + run < k && pt->type[j + e + run] != SV_PFINFO_XTAB)
					run++;
				if (run)
					put_frames(w, s->memfd, s->base,
						   r->offset + (i + j + e) * 4096, (size_t)run * 4096);
				e += run ? run : 1;
			}
			s->done += k;
			xl_progress_tick("%" PRIu64 "/%" PRIu64 " frames", s->done, s->frames);
		}
		i += cnt;
	}
	free(pt);
	return ret;
}

static int save_m2p(struct save_ctx *s, struct writer *w, const struct sv_mem_range *r)
{
	struct sv_ctl_m2p *q = malloc(sizeof(*q));
	uint64_t first = r->gpa >> 12, n = r->size >> 12;
	int ret = 0;

	if (!q)
		return -ENOMEM;
	for (uint64_t i = 0; i < n && !ret; i += SV_M2P_MAX) {
		uint32_t cnt = n - i > SV_M2P_MAX ? SV_M2P_MAX : (uint32_t)(n - i), got = 0;
		struct sv_save_m2p h = { .first = first + i, .count = cnt };

		memset(q, 0, sizeof(*q));
		q->domid = s->domid;
		q->count = cnt;
		q->first = first + i;
		ret = svctl_call(s->c, SV_CTL_M2P_GET, q, sizeof(*q), q, sizeof(*q), &got, NULL);
		if (!ret && got != sizeof(*q))
			ret = -EPROTO;
		if (ret)
			break;
		rec(w, SV_REC_M2P, sizeof(h) + 8 * (uint64_t)cnt);
		put(w, &h, sizeof(h));
		put(w, q->entry, 8 * (size_t)cnt);
	}
	free(q);
	return ret;
}

/* Everything after the suspend; 0, or -errno after saying why. */
static int write_image(struct save_ctx *s, struct writer *w, const struct sv_dominfo *di,
		       const char *cfgtext, size_t cfglen)
{
	struct sv_save_header hdr = { .version = SV_SAVE_VERSION,
				      .header_len = sizeof(hdr),
				      .config_len = (uint32_t)cfglen };
	struct sv_ctl_domid q = { .domid = s->domid };
	struct sv_ctl_save_info si;
	struct sv_save_domain sd = { 0 };
	struct vcpu_guest_context *ctx = malloc(sizeof(*ctx));
	uint32_t got = 0;
	int memfd = -1, ret;

	if (!ctx)
		return -ENOMEM;
	ret = svctl_call(s->c, SV_CTL_DOMAIN_SAVE_INFO, &q, sizeof(q), &si, sizeof(si), &got, NULL);
	if (!ret && got != sizeof(si))
		ret = -EPROTO;
	if (ret) {
		xl_err("domain '%s': cannot read its state: %s", s->name, strerror(-ret));
		goto out;
	}
	if (!(si.flags & SV_SAVE_F_SUSPENDED) || si.suspend_vcpu < 0 ||
	    (uint32_t)si.suspend_vcpu >= si.max_vcpus) {
		xl_err("domain '%s' is not suspended: cannot save it", s->name);
		ret = -EINVAL;
		goto out;
	}
	ret = svctl_domain_memory(s->c, s->domid, &s->mem, &memfd);
	s->memfd = memfd;
	if (ret || s->mem.nr_ranges > 2) {
		xl_err("domain '%s': cannot reach its memory: %s", s->name,
		       strerror(ret ? -ret : EPROTO));
		ret = ret ? ret : -EPROTO;
		goto out;
	}
	s->base = mmap(NULL, s->mem.memfd_size, PROT_READ, MAP_SHARED, memfd, 0);
	if (s->base == MAP_FAILED) {
		ret = -errno;
		s->base = NULL;
		xl_err("domain '%s': cannot map its memory: %s", s->name, strerror(-ret));
		goto out;
	}
	memcpy(sd.name, di->name, sizeof(sd.name));
	sd.name[sizeof(sd.name) - 1] = '\0';
	memcpy(sd.handle, di->handle, sizeof(sd.handle));
	sd.max_vcpus = si.max_vcpus;
	sd.engine = si.engine;
	sd.tsc_mode = si.tsc_mode;
	sd.flags = si.flags & SV_SAVE_F_LOW_VA;
	sd.ram_kb = si.ram_kb;
	sd.cur_pages = si.cur_pages;
	sd.max_pages = si.max_pages;
	sd.hcall_page_gpa = si.hcall_page_gpa;
	sd.suspend_vcpu = (uint32_t)si.suspend_vcpu;
	sd.gnttab_frames = si.gnttab_frames;

	memcpy(hdr.magic, SV_SAVE_MAGIC, sizeof(hdr.magic));
	put(w, &hdr, sizeof(hdr));
	put(w, cfgtext, cfglen);
	pad(w, cfglen);

	/* The contexts first: the start_info frame is the suspending vCPU's rdx. */
	struct sv_save_vcpu *vr = calloc(si.max_vcpus, sizeof(*vr));
	if (!vr) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t v = 0; v < si.max_vcpus; v++) {
		vr[v].vcpu = v;
		ret = get_context(s->c, s->domid, v, ctx);
		if (ret == -ENODATA) {
			vr[v].vcpu = UINT32_MAX; /* never brought up: nothing to keep */
			ret = 0;
			continue;
		}
		if (ret) {
			xl_err("domain '%s': cannot read vCPU %u's context: %s", s->name, v,
			       strerror(-ret));
			break;
		}
		vr[v].online = (ctx->flags & VGCF_online) != 0;
		if (vr[v].online && !(ctx->flags & VGCF_in_kernel)) {
			xl_err("domain '%s': vCPU %u was in user mode when it suspended: cannot "
			       "save it",
			       s->name, v);
			ret = -EINVAL;
			break;
		}
		vr[v].ctx = *ctx;
	}
	if (!ret && vr[sd.suspend_vcpu].vcpu == UINT32_MAX) {
		xl_err("domain '%s': the vCPU that suspended has no context", s->name);
		ret = -EINVAL;
	}
	if (!ret) {
		sd.start_info_gfn = vr[sd.suspend_vcpu].ctx.user_regs.rdx;
		rec(w, SV_REC_DOMAIN, sizeof(sd));
		put(w, &sd, sizeof(sd));
		for (uint32_t v = 0; v < si.max_vcpus; v++) {
			if (vr[v].vcpu == UINT32_MAX)
				continue;
			rec(w, SV_REC_VCPU, sizeof(vr[v]));
			put(w, &vr[v], sizeof(vr[v]));
		}
	}
	free(vr);
	if (ret)
		goto out;

	s->frames = 0;
	for (uint32_t i = 0; i < s->mem.nr_ranges; i++)
		s->frames += s->mem.ram[i].size >> 12;
	for (uint32_t i = 0; i < s->mem.nr_ranges && !ret; i++) {
		const struct sv_mem_range *r = &s->mem.ram[i];
		if ((r->gpa | r->size | r->offset) & 4095 || r->offset > s->mem.memfd_size ||
		    r->size > s->mem.memfd_size - r->offset) {
			ret = -EPROTO;
			break;
		}
		ret = save_range(s, w, r);
	}
	for (uint32_t i = 0; i < s->mem.nr_ranges && !ret; i++)
		ret = save_m2p(s, w, &s->mem.ram[i]);
	if (ret) {
		xl_err("domain '%s': cannot read its frames: %s", s->name, strerror(-ret));
		goto out;
	}
	struct sv_save_shinfo sh = { .max_pfn = si.max_pfn,
				     .pfn_to_mfn_frame_list_list = si.pfn_to_mfn_frame_list_list,
				     .p2m_cr3 = si.p2m_cr3,
				     .p2m_vaddr = si.p2m_vaddr,
				     .p2m_generation = si.p2m_generation };
	rec(w, SV_REC_SHARED_INFO, sizeof(sh));
	put(w, &sh, sizeof(sh));
	rec(w, SV_REC_END, 0);
	if (!w->err && fflush(w->f))
		w->err = -errno;
	if (w->err) {
		xl_err("cannot write checkpoint file '%s': %s", w->path, strerror(-w->err));
		ret = w->err;
	}
out:
	if (s->base)
		munmap((void *)s->base, s->mem.memfd_size);
	if (memfd >= 0)
		close(memfd);
	free(ctx);
	return ret;
}

int xl_cmd_save(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	bool checkpoint = false, leavepaused = false;
	struct svctl *c = NULL;
	struct xs_handle *xs = NULL;
	char *cfgtext = NULL;
	size_t cfglen = 0;
	struct sv_dominfo di;
	struct writer w = { 0 };
	uint32_t domid;
	int opt, ret, status = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+cph", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			checkpoint = true;
			break;
		case 'p':
			leavepaused = true;
			break;
		default:
			xl_err(SAVE_USAGE);
			return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 3) {
		xl_err(SAVE_USAGE);
		return 2;
	}
	const char *dom_arg = argv[optind], *path = argv[optind + 1];
	const char *cfgfile = argc - optind == 3 ? argv[optind + 2] : NULL;

	c = xl_connect();
	if (!c)
		return 1;
	if (xl_domid(c, dom_arg, &domid) || svctl_domain_info(c, domid, &di))
		goto out;
	di.name[sizeof(di.name) - 1] = '\0';
	if (di.flags & (SV_DOMF_SHUTDOWN | SV_DOMF_DYING)) {
		xl_err("domain '%s' is shut down: only a running domain can be saved", di.name);
		goto out;
	}
	if (cfgfile) {
		if (xl_config_read_file(cfgfile, &cfgtext, &cfglen))
			goto out;
	} else {
		ret = xl_config_recorded(domid, &cfgtext, &cfglen);
		if (ret) {
			xl_err("domain '%s': its configuration is not known (it was not created by "
			       "this xl): give a <ConfigFile>",
			       di.name);
			goto out;
		}
	}
	xs = svxs_open();
	if (!xs) {
		xl_err("cannot save domain '%s': xenstored is not reachable to ask it to suspend",
		       di.name);
		goto out;
	}
	/* The file is made before the guest is asked: a bad path changes nothing. */
	w.path = path;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(w.f = fdopen(fd, "w"))) {
		xl_err("cannot open checkpoint file '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	setvbuf(w.f, NULL, _IOFBF, 1 << 20);
	fprintf(stderr, "Saving to %s new xl format (info 0x%x/0x0/%zu)\n", path, 0u, cfglen);
	if (suspend_guest(c, xs, domid, di.name)) {
		fclose(w.f);
		w.f = NULL;
		unlink(path);
		goto out;
	}
	fprintf(stderr, "xc: info: Saving domain %u, type x86 PV\n", domid);
	struct save_ctx s = { .c = c, .domid = domid, .name = di.name };
	xl_progress_start("Saving domain %s", di.name);
	ret = write_image(&s, &w, &di, cfgtext, cfglen);
	xl_progress_done();
	if (fclose(w.f) && !ret) {
		ret = -errno;
		xl_err("cannot write checkpoint file '%s': %s", path, strerror(-ret));
	}
	w.f = NULL;
	if (ret) {
		unlink(path);
		fprintf(stderr, "Failed to save domain, resuming domain\n");
		ret = svctl_domain_resume(c, domid, SV_RESUME_CANCEL);
		if (ret)
			xl_err("domain '%s': cannot resume it: %s", di.name, strerror(-ret));
		goto out;
	}
	fprintf(stderr, "xc: Frames: %" PRIu64 "/%" PRIu64 "  100%%\n", s.frames, s.frames);
	if (leavepaused || checkpoint) {
		/* As xl: the snapshot taken, the guest runs on (or stays paused) with the suspend cancelled. */
		if (leavepaused && (ret = svctl_domain_pause(c, domid)))
			xl_err("domain '%s': cannot pause it: %s", di.name, strerror(-ret));
		ret = svctl_domain_resume(c, domid, SV_RESUME_CANCEL);
		if (ret) {
			xl_err("domain '%s': cannot resume it: %s", di.name, strerror(-ret));
			goto out;
		}
	} else {
		ret = svctl_domain_destroy(c, domid);
		if (ret && ret != -ESRCH) {
			xl_err("domain '%s': saved, but cannot destroy it: %s", di.name,
			       strerror(-ret));
			goto out;
		}
	}
	status = 0;
out:
	if (w.f)
		fclose(w.f);
	free(cfgtext);
	svxs_close(xs);
	svctl_close(c);
	return status;
}
