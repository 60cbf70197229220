// SPDX-License-Identifier: MIT
/* xl create: config to running domain, and the monitor that applies on_poweroff/on_reboot/on_crash.
 */
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xen/sched.h>
#include "build.h"
#include "config.h"
#include "elf.h"
#include "xl.h"
#include "xl_boot.h"
#include "sv/svxs.h"
#include "xl_domnodes.h"
#include "xl_domain.h"

#define MAX_IMAGE (512u << 20)

/* Reads a whole file (kernel, ramdisk) with a clear message on failure. */
static int read_file(const char *what, const char *path, void **data, size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *buf;
	size_t got = 0;

	if (fd < 0) {
		xl_err("%s '%s': %s", what, path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > MAX_IMAGE) {
		xl_err("%s '%s': not a regular file of 1 byte to %u MiB", what, path,
		       MAX_IMAGE >> 20);
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			xl_err("%s '%s': read failed: %s", what, path,
			       n ? strerror(errno) : "short file");
			free(buf);
			close(fd);
			return -EIO;
		}
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*size = got;
	return 0;
}

/* Xen's XC_DOM_DECOMPRESS_MAX: no kernel inflates to more than 1 GiB. */
#define XL_KERNEL_INFLATE_MAX ((size_t)1 << 30)

struct images {
	void *kernel, *ramdisk;
	size_t kernel_size, ramdisk_size;
	struct sv_elf elf;
};

static int load_images(const struct sv_config *cfg, struct images *im)
{
	char err[256], path[4096];
	int ret;

	memset(im, 0, sizeof(*im));
	if (cfg->type != SV_GUEST_PV) {
		xl_err("type \"%s\" guests are not supported yet: only type = \"pv\" runs",
		       sv_guest_type_name(cfg->type));
		return -EOPNOTSUPP;
	}
	ret = xl_boot_path(cfg->kernel, path, sizeof(path));
	if (ret)
		xl_err("kernel '%s': %s", cfg->kernel, strerror(-ret));
	else
		ret = read_file("kernel", path, &im->kernel, &im->kernel_size);
	if (ret)
		return ret;
	{
		/* A bzImage or compressed kernel, as Xen's libxc; it must fit the guest's memory anyway. */
		size_t max = (size_t)cfg->memory_mb << 20;
		void *raw;
		size_t raw_size;

		if (max > XL_KERNEL_INFLATE_MAX)
			max = XL_KERNEL_INFLATE_MAX;
		ret = sv_kernel_unpack(im->kernel, im->kernel_size, max, &raw, &raw_size, err,
				       sizeof(err));
		if (ret) {
			xl_err("kernel '%s': %s", cfg->kernel, err);
			return ret;
		}
		if (raw) {
			free(im->kernel);
			im->kernel = raw;
			im->kernel_size = raw_size;
		}
	}
	if (sv_elf_parse(&im->elf, im->kernel, im->kernel_size, err, sizeof(err)) ||
	    sv_elf_check_pv(&im->elf, err, sizeof(err))) {
		xl_err("kernel '%s': %s", cfg->kernel, err);
		return -EINVAL;
	}
	if (cfg->ramdisk[0]) {
		ret = xl_boot_path(cfg->ramdisk, path, sizeof(path));
		if (ret)
			xl_err("ramdisk '%s': %s", cfg->ramdisk, strerror(-ret));
		else
			ret = read_file("ramdisk", path, &im->ramdisk, &im->ramdisk_size);
		if (ret)
			return ret;
	}
	return 0;
}

static void free_images(struct images *im)
{
	free(im->kernel);
	free(im->ramdisk);
}

static int parse_uuid(const char *s, uint8_t out[16])
{
	unsigned n = 0;

	for (const char *p = s; *p && n < 32; p++) {
		if (*p == '-')
			continue;
		unsigned v;
		if (sscanf(p, "%1x", &v) != 1)
			return -EINVAL;
		out[n / 2] = (uint8_t)(n % 2 ? out[n / 2] | v : v << 4);
		n++;
	}
	return n == 32 ? 0 : -EINVAL;
}

void xl_make_handle(const struct sv_config *cfg, uint8_t h[16])
{
	if (cfg->uuid[0] && !parse_uuid(cfg->uuid, h))
		return;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, h, 16) != 16)
		memset(h, 0, 16);
	if (fd >= 0)
		close(fd);
	h[6] = (uint8_t)((h[6] & 0x0f) | 0x40); /* version 4 */
	h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
}

int xl_alloc_port_for_dom0(struct svctl *c, uint32_t domid, uint32_t *port)
{
	struct sv_ctl_evtchn_alloc q = { .dom = domid, .remote_dom = 0 };
	struct sv_ctl_evtchn_port r;
	uint32_t got = 0;
	int ret =
	    svctl_call(c, SV_CTL_EVTCHN_ALLOC_UNBOUND, &q, sizeof(q), &r, sizeof(r), &got, NULL);

	if (!ret && got != sizeof(r))
		ret = -EPROTO;
	if (!ret)
		*port = r.port;
	return ret;
}

/*
 * Says why the hypervisor would not create the domain.  -ENODEV: the
 * engine asked for does not run on this host; the host's own account
 * (engine_detail, the engines it has) says why and what to use instead.
 */
void xl_create_error(struct svctl *c, const struct sv_config *cfg, int err)
{
	struct sv_host_info hi;
	char engines[128];

	if (err == -EEXIST) {
		xl_err("domain '%s' already exists", cfg->name);
		return;
	}
	if (err == -EOPNOTSUPP && cfg->tsc_mode == SV_TSC_MODE_ALWAYS_EMULATE) {
		xl_err("cannot create domain '%s': tsc_mode \"always_emulate\": its engine cannot "
		       "make rdtsc trap on this host (xl dmesg says why)",
		       cfg->name);
		return;
	}
	if (err != -ENODEV || cfg->engine == SV_ENGINE_DEFAULT) {
		xl_err("cannot create domain '%s': %s", cfg->name, strerror(-err));
		return;
	}
	if (svctl_host_info(c, &hi)) {
		xl_err("cannot create '%s': engine '%s' is not available on this host", cfg->name,
		       sv_engine_name(cfg->engine));
		return;
	}
	xl_engines_text(hi.engines, engines, sizeof(engines));
	if (hi.engine_detail[0])
		xl_err("cannot create '%s': engine '%s' is not available on this host (%.*s); "
		       "it has: %s",
		       cfg->name, sv_engine_name(cfg->engine), (int)sizeof(hi.engine_detail),
		       hi.engine_detail, engines);
	else
		xl_err("cannot create '%s': engine '%s' is not available on this host; it has: %s",
		       cfg->name, sv_engine_name(cfg->engine), engines);
}

/*
 * Create, build and (unless paused) start one domain: hypervisor domain,
 * store and console event channels for dom0, the PV layout, the xenstore
 * nodes and the introduction to xenstored.  0 and its domid, or -errno.
 */
static int start_domain(struct svctl *c, struct xs_handle *xs, const struct sv_config *cfg,
			const struct images *im, bool paused, uint32_t *domid_out)
{
	struct sv_ctl_create req = { .kind = SV_DOM_PV,
				     .max_vcpus = cfg->maxvcpus,
				     .mem_kb = cfg->memory_mb * 1024,
				     .engine = cfg->engine,
				     .tsc_mode = cfg->tsc_mode,
				     .max_kb = cfg->maxmem_mb * 1024 };
	struct sv_pv_image img = { .kernel = &im->elf,
				   .ramdisk = im->ramdisk,
				   .ramdisk_size = im->ramdisk_size,
				   .cmdline = cfg->cmdline };
	struct sv_pv_layout lay;
	char err[256], uuid[37];
	uint32_t domid;
	int ret;

	snprintf(req.name, sizeof(req.name), "%s", cfg->name);
	if (sv_pv_low_va(&im->elf))
		req.flags |= SV_CTL_CREATE_F_LOW_VA;
	xl_make_handle(cfg, req.handle);
	xl_uuid_text(req.handle, uuid);
	ret = svctl_domain_create(c, &req, &domid);
	if (ret) {
		xl_create_error(c, cfg, ret);
		return ret;
	}
	ret = xl_vcpu_pin_config(c, domid, cfg);
	if (!ret)
		ret = xl_sched_apply_config(c, domid, cfg);
	if (ret)
		goto out_destroy;
	ret = xl_alloc_port_for_dom0(c, domid, &img.store_evtchn);
	if (!ret)
		ret = xl_alloc_port_for_dom0(c, domid, &img.console_evtchn);
	if (ret) {
		xl_err("domain '%s': cannot allocate event channels: %s", cfg->name,
		       strerror(-ret));
		goto out_destroy;
	}
	ret = sv_build_pv(c, domid, &img, &lay, err, sizeof(err));
	if (ret) {
		xl_err("domain '%s': %s", cfg->name, err);
		goto out_destroy;
	}
	{
		struct xl_dom_setup su = { .domid = domid,
					   .uuid = uuid,
					   .store_mfn = lay.store_mfn,
					   .console_mfn = lay.console_mfn,
					   .store_port = img.store_evtchn,
					   .console_port = img.console_evtchn };
		ret = xl_domain_finish(c, xs, cfg, &su, paused);
		if (ret)
			return ret; /* destroyed there */
	}
	*domid_out = domid;
	return 0;

out_destroy:
	svctl_domain_destroy(c, domid);
	return ret;
}

int xl_domain_finish(struct svctl *c, struct xs_handle *xs, const struct sv_config *cfg,
		     const struct xl_dom_setup *su, bool paused)
{
	uint32_t domid = su->domid;
	char err[256];
	int ret = 0;

	if (xs) {
		struct xl_domnodes xd = {
			.domid = domid,
			.name = cfg->name,
			.uuid = su->uuid,
			.memory_kb = cfg->memory_mb * 1024,
			.maxmem_kb = cfg->maxmem_mb * 1024,
			.vcpus = cfg->vcpus,
			.maxvcpus = cfg->maxvcpus,
			.store_mfn = su->store_mfn,
			.console_mfn = su->console_mfn,
			.store_port = su->store_port,
			.console_port = su->console_port,
		};
		ret = xl_domnodes_setup(xs, &xd, err, sizeof(err));
		if (ret) {
			xl_err("domain '%s': %s", cfg->name, err);
			xl_domnodes_cleanup(xs, domid);
			goto out_destroy;
		}
		ret = xl_block_create_all(xs, domid, cfg);
		if (!ret)
			ret = xl_net_create_all(xs, domid, cfg);
		if (ret) {
			xl_domnodes_cleanup(xs, domid);
			goto out_destroy;
		}
	} else if (cfg->nr_disks || cfg->nr_vifs) {
		xl_err("domain '%s': devices need xenstored, which is not running", cfg->name);
		ret = -ENOTCONN;
		goto out_destroy;
	}
	xl_userdata_write(cfg, domid, su->uuid);
	if (xl_cfg_text)
		xl_config_record(domid, xl_cfg_text, xl_cfg_len);
	if (!paused) {
		ret = svctl_domain_unpause(c, domid);
		if (ret) {
			xl_err("cannot start domain '%s': %s", cfg->name, strerror(-ret));
			xl_domnodes_cleanup(xs, domid);
			goto out_destroy;
		}
	}
	return 0;

out_destroy:
	xl_config_forget(domid);
	svctl_domain_destroy(c, domid);
	return ret;
}

static void mlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mlog(const char *fmt, ...)
{
	char ts[32];
	time_t t = time(NULL);
	va_list ap;

	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", gmtime(&t));
	fprintf(stderr, "%s ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * The monitor: a daemon per domain, as xl's own, that waits for the guest
 * to shut down and then does what the config says for that reason.
 */
/*
 * Until the console client of `xl create -c` is attached (it closes its
 * end of hold_fd then, or by exiting), keep a domain that already shut
 * down: a guest that halts at once would otherwise be destroyed before
 * anyone saw its output.
 */
static void wait_console_client(int *hold_fd)
{
	struct pollfd p = { .fd = *hold_fd, .events = POLLIN };

	if (*hold_fd < 0)
		return;
	while (poll(&p, 1, 60000) < 0 && errno == EINTR)
		;
	close(*hold_fd);
	*hold_fd = -1;
}

/*
 * While the domain stays suspended: true once it runs again (resumed),
 * false when it is gone.  The hypervisor announces a shutdown, not a
 * resume, so this looks once a second.
 */
static bool wait_suspended(struct svctl *c, uint32_t domid)
{
	for (;;) {
		struct sv_dominfo di;
		int ret = svctl_domain_info(c, domid, &di);

		if (ret || (di.flags & SV_DOMF_DYING))
			return false;
		if (!(di.flags & SV_DOMF_SHUTDOWN) || di.shutdown_reason != SHUTDOWN_suspend) {
			if (!(di.flags & SV_DOMF_SHUTDOWN))
				mlog("domain %u resumed", domid);
			return true;
		}
		sleep(1);
	}
}

static void monitor(const struct sv_config *cfg, const struct images *im, uint32_t domid,
		    int hold_fd)
{
	static struct images loaded; /* a restored domain's kernel, read when it restarts */

	struct svctl *c = svctl_open(svctl_rundir());
	struct xs_handle *xs = svxs_open();

	if (!c) {
		mlog("cannot reach the hypervisor: %s", strerror(errno));
		return;
	}
	mlog("monitoring domain %u ('%s')", domid, cfg->name);
	for (;;) {
		struct sv_dominfo di;
		int ret = svctl_domain_wait(c, domid, 0, &di);
		if (ret == -ESRCH || (!ret && (di.flags & SV_DOMF_DYING))) {
			mlog("domain %u is gone", domid);
			xl_domnodes_cleanup(xs, domid);
			xl_config_forget(domid);
			break;
		}
		if (ret) {
			mlog("waiting for domain %u failed: %s", domid, strerror(-ret));
			break;
		}
		if (di.shutdown_reason == SHUTDOWN_suspend) {
			/* As xl: a suspended domain is left for whoever saves or resumes it. */
			mlog("domain %u has suspended", domid);
			if (wait_suspended(c, domid))
				continue;
			mlog("domain %u is gone", domid);
			xl_domnodes_cleanup(xs, domid);
			xl_config_forget(domid);
			break;
		}
		enum sv_action act;
		switch (di.shutdown_reason) {
		case SHUTDOWN_poweroff:
			act = cfg->on_poweroff;
			break;
		case SHUTDOWN_reboot:
			act = cfg->on_reboot;
			break;
		case SHUTDOWN_soft_reset:
			act = SV_ACTION_RESTART;
			break;
		default:
			act = cfg->on_crash;
			break; /* crash, watchdog, suspend */
		}
		mlog("domain %u shut down (%s): action %s", domid,
		     xl_reason_name(di.shutdown_reason), sv_action_name(act));
		wait_console_client(&hold_fd);
		if (act == SV_ACTION_PRESERVE)
			break;
		if (act == SV_ACTION_COREDUMP_DESTROY || act == SV_ACTION_COREDUMP_RESTART)
			mlog("core dumps are not supported; no dump written");
		ret = svctl_domain_destroy(c, domid);
		if (ret && ret != -ESRCH)
			mlog("destroy of domain %u failed: %s", domid, strerror(-ret));
		xl_domnodes_cleanup(xs, domid);
		xl_config_forget(domid);
		if (act == SV_ACTION_DESTROY || act == SV_ACTION_COREDUMP_DESTROY)
			break;
		/* Under its current name: `xl rename` may have changed it, as libxl would see. */
		static struct sv_config now;
		now = *cfg;
		if (di.name[0] && memchr(di.name, '\0', sizeof(di.name)))
			snprintf(now.name, sizeof(now.name), "%s", di.name);
		if (!im) {
			/* A restored domain: its kernel is read now, as xl create reads it. */
			free_images(&loaded);
			if (load_images(&now, &loaded)) {
				mlog("restart of '%s' failed: cannot load its kernel", now.name);
				break;
			}
			im = &loaded;
		}
		ret = start_domain(c, xs, &now, im, false, &domid);
		if (ret) {
			mlog("restart of '%s' failed: %s", now.name, strerror(-ret));
			break;
		}
		mlog("restarted '%s' as domain %u", now.name, domid);
	}
	if (hold_fd >= 0)
		close(hold_fd);
	svxs_close(xs);
	svctl_close(c);
}

/* Detach the monitor: double fork, new session, output to RUNDIR/xl-NAME.log. */
static int spawn_monitor(const struct sv_config *cfg, const struct images *im, uint32_t domid,
			 const int hold[2])
{
	char path[4096];
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0) {
		int st;
		waitpid(pid, &st, 0);
		return 0;
	}
	if (setsid() < 0 || fork() != 0)
		_exit(0);
	if (hold[1] >= 0)
		close(hold[1]); /* only the console client holds the write end */
	snprintf(path, sizeof(path), "%s/xl-%s.log", svctl_rundir(), cfg->name);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(fd >= 0 ? fd : null, 1);
		dup2(fd >= 0 ? fd : null, 2);
	}
	monitor(cfg, im, domid, hold[0]);
	_exit(0);
}

int xl_domain_launch(struct svctl *c, const struct sv_config *cfg, const struct images *im,
		     uint32_t domid, bool console, bool with_monitor)
{
	int hold[2] = { -1, -1 };
	int ret = 0;

	if (console && with_monitor && pipe2(hold, O_CLOEXEC) < 0)
		hold[0] = hold[1] = -1; /* then the console may miss a guest that halts at once */
	if (with_monitor && spawn_monitor(cfg, im, domid, hold))
		xl_err(
		    "warning: could not start the domain monitor: on_poweroff etc. will not act");
	if (hold[0] >= 0)
		close(hold[0]);
	if (console)
		ret = xl_console_follow(c, domid, hold[1]);
	else if (hold[1] >= 0)
		close(hold[1]);
	return ret;
}

static void warn_cb(void *opaque, const char *msg)
{
	(void)opaque;
	fprintf(stderr, "xl: %s\n", msg);
}

int xl_cmd_create(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	bool console = false, paused = false, quiet = false, dryrun = false;
	struct sv_config cfg;
	struct images im = { 0 };
	struct svctl *c = NULL;
	struct xs_handle *xs = NULL;
	char err[512];
	uint32_t domid = 0;
	int opt, ret = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+cpqnh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			console = true;
			break;
		case 'p':
			paused = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'n':
			dryrun = true;
			break;
		default:
			xl_err("usage: xl create [-c] [-p] [-q] [-n] <ConfigFile> [key=value ...]");
			return 2;
		}
	}
	if (optind >= argc) {
		xl_err("usage: xl create [-c] [-p] [-q] [-n] <ConfigFile> [key=value ...]");
		return 2;
	}
	sv_config_init(&cfg);
	cfg.warn = warn_cb;
	if (!quiet)
		fprintf(stderr, "Parsing config from %s\n", argv[optind]);
	if (sv_config_parse_file(&cfg, argv[optind], err, sizeof(err))) {
		xl_err("%s", err);
		goto out;
	}
	for (int i = optind + 1; i < argc; i++) {
		if (sv_config_override(&cfg, argv[i], err, sizeof(err))) {
			xl_err("%s", err);
			goto out;
		}
	}
	if (sv_config_validate(&cfg, err, sizeof(err))) {
		xl_err("%s", err);
		goto out;
	}
	/* The text xl save will keep (a pipe or /dev/stdin was read once: no record then). */
	{
		struct stat st;
		if (!dryrun && !stat(argv[optind], &st) && S_ISREG(st.st_mode) &&
		    xl_config_set_text(argv[optind], argv + optind + 1, argc - optind - 1))
			goto out;
	}
	if (load_images(&cfg, &im))
		goto out;
	if (dryrun) {
		/* -n: what would be built, checked as a create checks it; nothing is created. */
		uint8_t handle[16];
		char uuid[37];

		xl_make_handle(&cfg, handle);
		xl_uuid_text(handle, uuid);
		ret = xl_config_print_json(&cfg, uuid) ? 1 : 0;
		if (ret)
			xl_err("cannot format the configuration: %s", strerror(ENOMEM));
		goto out;
	}
	c = xl_connect();
	if (!c)
		goto out;
	xs = svxs_open();
	if (!xs)
		fprintf(stderr,
			"xl: warning: xenstored is not reachable: the guest gets no store\n");
	if (start_domain(c, xs, &cfg, &im, paused, &domid))
		goto out;
	ret = xl_domain_launch(c, &cfg, &im, domid, console, true);
out:
	svxs_close(xs);
	svctl_close(c);
	free_images(&im);
	sv_config_free(&cfg);
	return ret;
}
