// SPDX-License-Identifier: MIT
/* xl's host and domain commands: info, console, pause, unpause, shutdown, reboot, destroy. */
#include <stdint.h>
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <xen/sched.h>
#include "xl.h"
#include "xl_progress.h"
#include "sv/svxs.h"
#include "xl_domnodes.h"

static const char *kvm_kind_name(uint32_t kind)
{
	switch (kind) {
	case SV_KVM_NONE:
		return "none";
	case SV_KVM_HARDWARE:
		return "hardware";
	case SV_KVM_PVM:
		return "pvm";
	default:
		return "unknown";
	}
}

int xl_cmd_info(int argc, char **argv)
{
	struct sv_host_info hi;
	char engines[128];
	struct utsname u;
	struct svctl *c = xl_connect();
	int ret;

	if (!c)
		return 1;
	ret = svctl_host_info(c, &hi);
	svctl_close(c);
	if (ret) {
		xl_err("cannot read host information: %s", strerror(-ret));
		return 1;
	}
	uname(&u);
	printf("host                   : %s\n", u.nodename);
	printf("release                : %s\n", u.release);
	printf("version                : %s\n", u.version);
	printf("machine                : %s\n", u.machine);
	printf("nr_cpus                : %u\n", hi.nr_cpus);
	printf("cpu_mhz                : %llu.%03llu\n", (unsigned long long)(hi.tsc_khz / 1000),
	       (unsigned long long)(hi.tsc_khz % 1000));
	printf("virt_caps              : pv\n");
	printf("total_memory           : %llu\n", (unsigned long long)(hi.total_kb / 1024));
	printf("free_memory            : %llu\n", (unsigned long long)(hi.free_kb / 1024));
	printf("xen_major              : %u\n", hi.xen_major);
	printf("xen_minor              : %u\n", hi.xen_minor);
	printf("xen_extra              : %s\n", hi.xen_extra);
	printf("xen_version            : %u.%u%s\n", hi.xen_major, hi.xen_minor, hi.xen_extra);
	printf("xen_caps               : %s\n", hi.xen_caps);
	printf("xen_scheduler          : host (Linux CFS: one thread per vCPU)\n");
	printf("max_vcpus_per_domain   : %u\n", hi.max_vcpus);
	printf("nr_domains             : %u\n", hi.nr_domains);
	printf("kvm                    : %s\n", kvm_kind_name(hi.kvm_kind));
	printf("kvm_detail             : %s\n", hi.kvm_detail);
	printf("engine                 : %s\n", sv_engine_name(hi.engine));
	printf("engine_detail          : %.*s\n", (int)sizeof(hi.engine_detail), hi.engine_detail);
	xl_engines_text(hi.engines, engines, sizeof(engines));
	printf("engines                : %s\n", engines);
	printf("uptime                 : %.1f s\n", (double)hi.uptime_ns / 1e9);
	return 0;
}

/* The early console: what the guest wrote through console_io, kept by the hypervisor. */
static int follow_console_io(struct svctl *c, uint32_t domid, bool history_only)
{
	static char buf[32768];
	uint64_t off = 0;

	for (;;) {
		uint32_t len = 0;
		int gone = 0;
		int ret = svctl_console_read(c, domid, &off, history_only ? 0 : 1000, buf,
					     sizeof(buf), &len, &gone);
		if (ret == -ESRCH)
			return 0; /* destroyed: nothing more to show */
		if (ret) {
			xl_err("console of domain %u: %s", domid, strerror(-ret));
			return 1;
		}
		if (len && fwrite(buf, 1, len, stdout) != len)
			return 1;
		fflush(stdout);
		if ((gone || history_only) && !len)
			return 0;
	}
}

/* Attach to xenconsoled's stream for domid: the connected socket, or -1. */
static int consoled_attach(uint32_t domid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[256];

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/xenconsoled.sock", svctl_rundir());
	/* A domain just created may not be known to xenconsoled yet: retry briefly. */
	for (int tries = 0; tries < 40; tries++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		size_t n = 0;

		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(fd);
			return -1;
		}
		dprintf(fd, "attach %u\n", domid);
		while (n < sizeof(line) - 1) {
			ssize_t r = read(fd, line + n, 1);
			if (r <= 0)
				break;
			if (line[n++] == '\n')
				break;
		}
		line[n] = '\0';
		if (!strcmp(line, "ok\n"))
			return fd;
		close(fd);
		usleep(50000);
	}
	return -1;
}

/*
 * Follow a guest's console: first what it wrote through console_io (its
 * early console), then its console ring through xenconsoled, both ways;
 * Ctrl-] leaves.  Without xenconsoled, the early console alone.
 */
int xl_console_follow(struct svctl *c, uint32_t domid, int attached_fd)
{
	struct termios saved, raw;
	bool tty = isatty(0);
	char buf[4096];
	int fd, ret = 0;

	fd = consoled_attach(domid);
	if (fd < 0) {
		if (attached_fd >= 0)
			close(attached_fd);
		return follow_console_io(c, domid, false);
	}
	follow_console_io(c, domid, true);
	if (attached_fd >= 0)
		close(attached_fd);
	if (tty && tcgetattr(0, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST | ONLCR;
		tcsetattr(0, TCSANOW, &raw);
	} else {
		tty = false;
	}
	bool in_open = true;
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = 0, .events = POLLIN } };
		if (poll(p, in_open ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break; /* xenconsoled let go: the domain is gone */
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				break;
			fflush(stdout);
		}
		if (in_open && p[1].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				in_open = false;
				continue;
			}
			void *esc = tty ? memchr(buf, 0x1d, (size_t)n) : NULL; /* Ctrl-] */
			size_t len = esc ? (size_t)((char *)esc - buf) : (size_t)n;
			if (len && write(fd, buf, len) != (ssize_t)len)
				break;
			if (esc)
				break;
		}
	}
	if (tty)
		tcsetattr(0, TCSANOW, &saved);
	close(fd);
	return ret;
}

int xl_cmd_console(int argc, char **argv)
{
	struct svctl *c;
	uint32_t domid;
	int ret;

	if (argc != 2) {
		xl_err("usage: xl console <Domain>");
		return 2;
	}
	c = xl_connect();
	if (!c)
		return 1;
	ret = xl_domid(c, argv[1], &domid) ? 1 : xl_console_follow(c, domid, -1);
	svctl_close(c);
	return ret;
}

/* The shape of pause, unpause, destroy: one domain, one call. */
static int simple(int argc, char **argv, int (*fn)(struct svctl *, uint32_t), const char *what)
{
	struct svctl *c;
	uint32_t domid;
	int ret;

	if (argc != 2) {
		xl_err("usage: xl %s <Domain>", argv[0]);
		return 2;
	}
	c = xl_connect();
	if (!c)
		return 1;
	ret = xl_domid(c, argv[1], &domid);
	if (!ret) {
		ret = fn(c, domid);
		if (ret)
			xl_err("cannot %s domain '%s': %s", what, argv[1], strerror(-ret));
	}
	svctl_close(c);
	return ret ? 1 : 0;
}

int xl_cmd_pause(int argc, char **argv)
{
	return simple(argc, argv, svctl_domain_pause, "pause");
}

int xl_cmd_unpause(int argc, char **argv)
{
	return simple(argc, argv, svctl_domain_unpause, "unpause");
}

/* Destroy in the hypervisor, then release the domain's xenstore nodes. */
static int destroy_and_cleanup(struct svctl *c, uint32_t domid)
{
	int ret = svctl_domain_destroy(c, domid);

	if (!ret) {
		struct xs_handle *xs = svxs_open();
		xl_domnodes_cleanup(xs, domid);
		svxs_close(xs);
	}
	return ret;
}

int xl_cmd_destroy(int argc, char **argv)
{
	return simple(argc, argv, destroy_and_cleanup, "destroy");
}

/* How long `shutdown -w`/`reboot -w` wait for the monitor to act on the domain. */
#define XL_SHUTDOWN_WAIT_MS 30000

/*
 * -w of shutdown/reboot: wait until the monitor has acted (the domain is
 * gone), with a progress line on a terminal.  A domain still there after
 * XL_SHUTDOWN_WAIT_MS counts as done when it is shut down (kept by
 * on_poweroff/on_reboot = "preserve"), else it is an error.  0 or -errno.
 */
static int shutdown_wait(struct svctl *c, uint32_t domid, const char *name, uint32_t reason)
{
	struct timespec t0, now;
	struct sv_dominfo di;
	bool gone = false;
	int r = 0;

	fprintf(stderr, "Waiting for 1 domains\n");
	xl_progress_start("Waiting for domain %s (%u) to %s", name, domid,
			  reason == SHUTDOWN_reboot ? "reboot" : "shut down");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		r = svctl_domain_info(c, domid, &di);
		if (r == -ESRCH) {
			gone = true;
			break;
		}
		if (r)
			break;
		if (di.flags & SV_DOMF_SHUTDOWN)
			xl_progress_tick("shut down (%s), waiting for its monitor",
					 xl_reason_name(di.shutdown_reason));
		else
			xl_progress_tick("%s", di.flags & SV_DOMF_PAUSED ? "paused" : "running");
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >=
		    XL_SHUTDOWN_WAIT_MS)
			break;
		usleep(50000);
	}
	xl_progress_done();
	if (!gone && r) {
		xl_err("lost domain %u while waiting: %s", domid, strerror(-r));
		return r;
	}
	if (!gone && !(di.flags & SV_DOMF_SHUTDOWN)) {
		xl_err("domain %s (%u) did not shut down within %d s", name, domid,
		       XL_SHUTDOWN_WAIT_MS / 1000);
		return -ETIMEDOUT;
	}
	fprintf(stderr, "Domain %u has been shut down, reason code %u\n", domid, reason);
	return 0;
}

/*
 * shutdown/reboot, as xl does: ask the guest through control/shutdown.  A PV
 * domain always has that interface to libxl, announced or not: Linux writes
 * control/feature-poweroff once at boot, so a domain restored from a save
 * does not announce it again, and still obeys.  With -F, a domain that does
 * not announce it is stopped by the hypervisor with that reason instead.
 * The domain's monitor then applies on_poweroff/on_reboot.
 */
static int shutdown_cmd(int argc, char **argv, uint32_t reason)
{
	const char *word = reason == SHUTDOWN_reboot ? "reboot" : "poweroff";
	bool wait = false, force = false;
	struct xs_handle *xs = NULL;
	struct svctl *c;
	uint32_t domid;
	int opt, ret;

	optind = 1;
	while ((opt = getopt(argc, argv, "wF")) != -1) {
		if (opt == 'w')
			wait = true;
		else if (opt == 'F')
			force = true;
		else {
			xl_err("usage: xl %s [-w] [-F] <Domain>", argv[0]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		xl_err("usage: xl %s [-w] [-F] <Domain>", argv[0]);
		return 2;
	}
	c = xl_connect();
	if (!c)
		return 1;
	ret = xl_domid(c, argv[optind], &domid);
	if (ret)
		goto out;
	xs = svxs_open();
	char feature[32], dom[SVXS_DOMAIN_DIR_MAX];
	snprintf(feature, sizeof(feature), "control/feature-%s", word);
	svxs_domain_dir(dom, domid);
	char *has = xs ? svxs_read(xs, XBT_NULL, dom, feature) : NULL;
	bool pv = has && !strcmp(has, "1");
	free(has);
	if (!xs && !force) {
		xl_err("cannot ask domain '%s' to %s: xenstored cannot be reached (-F stops it "
		       "from outside)",
		       argv[optind], word);
		ret = -EIO;
		goto out;
	}
	if (!pv && !force)
		fprintf(stderr,
			"xl: domain '%s' does not announce %s: asking it through "
			"control/shutdown anyway (-F stops it from outside)\n",
			argv[optind], feature);
	if (pv || !force) {
		ret = svxs_write(xs, XBT_NULL, dom, "control/shutdown", word);
		if (ret) {
			xl_err("cannot ask domain '%s' to %s: %s", argv[optind], word,
			       strerror(-ret));
			goto out;
		}
	} else {
		ret = svctl_domain_shutdown(c, domid, reason);
		if (ret) {
			xl_err("cannot %s domain '%s': %s", argv[0], argv[optind], strerror(-ret));
			goto out;
		}
	}
	if (wait)
		ret = shutdown_wait(c, domid, argv[optind], reason);
out:
	svxs_close(xs);
	svctl_close(c);
	return ret ? 1 : 0;
}

int xl_cmd_shutdown(int argc, char **argv)
{
	return shutdown_cmd(argc, argv, SHUTDOWN_poweroff);
}

int xl_cmd_reboot(int argc, char **argv)
{
	return shutdown_cmd(argc, argv, SHUTDOWN_reboot);
}

int xl_cmd_domid(int argc, char **argv)
{
	struct svctl *c;
	uint32_t domid;
	int ret;

	if (argc != 2) {
		xl_err("usage: xl domid <DomainName>");
		return 2;
	}
	if (!strcmp(argv[1], "Domain-0")) {
		printf("0\n");
		return 0;
	}
	c = xl_connect();
	if (!c)
		return 1;
	ret = xl_domid(c, argv[1], &domid);
	if (!ret)
		printf("%u\n", domid);
	svctl_close(c);
	return ret ? 1 : 0;
}

int xl_cmd_domname(int argc, char **argv)
{
	struct sv_dominfo di;
	struct svctl *c;
	char *end;
	unsigned long id;
	int ret;

	if (argc != 2) {
		xl_err("usage: xl domname <DomainId>");
		return 2;
	}
	id = strtoul(argv[1], &end, 10);
	if (!*argv[1] || *end) {
		xl_err("'%s' is not a domain id", argv[1]);
		return 2;
	}
	if (id == 0) {
		printf("Domain-0\n");
		return 0;
	}
	c = xl_connect();
	if (!c)
		return 1;
	ret = id > UINT32_MAX ? -ESRCH : svctl_domain_info(c, (uint32_t)id, &di);
	if (ret)
		xl_err("domain %s does not exist", argv[1]);
	else
		printf("%s\n", di.name);
	svctl_close(c);
	return ret ? 1 : 0;
}
