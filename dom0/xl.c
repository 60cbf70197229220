// SPDX-License-Identifier: MIT
/* xl: the Xen-style command tool; this file holds the command table and shared helpers. */
#include <stdint.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/sched.h>
#include "sv/shutdown.h"
#include "xl.h"

void xl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("xl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct svctl *xl_connect(void)
{
	const char *rundir = svctl_rundir();
	struct svctl *c = svctl_open(rundir);

	if (!c)
		xl_err("cannot reach the hypervisor at %s/%s: %s (is 'splitvisor start' running?)",
		       rundir, SV_CTL_SOCKET, strerror(errno));
	return c;
}

int xl_domid(struct svctl *c, const char *arg, uint32_t *domid)
{
	char *end;
	unsigned long v;
	int ret;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (*arg && !*end && !errno) {
		struct sv_dominfo di;
		if (v == 0) {
			xl_err("domain 0 is the host (dom0): it cannot be used here");
			return -EPERM;
		}
		ret = v > UINT32_MAX ? -ESRCH : svctl_domain_info(c, (uint32_t)v, &di);
		if (ret) {
			xl_err("domain %s does not exist", arg);
			return ret;
		}
		*domid = (uint32_t)v;
		return 0;
	}
	ret = svctl_domain_find(c, arg, domid);
	if (ret == -ESRCH)
		xl_err("domain '%s' does not exist", arg);
	else if (ret)
		xl_err("cannot look up domain '%s': %s", arg, strerror(-ret));
	return ret;
}

const char *xl_reason_name(uint32_t reason)
{
	return sv_shutdown_reason_name(reason);
}

void xl_uuid_text(const uint8_t h[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12],
		 h[13], h[14], h[15]);
}

void xl_engines_text(uint32_t engines, char *buf, size_t len)
{
	size_t used = 0;
	unsigned e;

	buf[0] = '\0';
	for (e = 1; e < 32; e++) {
		const char *name = sv_engine_name(e);
		int n;

		if (!(engines & SV_ENGINE_BIT(e)))
			continue;
		if (!strcmp(name, "unknown"))
			n = snprintf(buf + used, len - used, "%sengine%u", used ? " " : "", e);
		else
			n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", name);
		if (n < 0 || (size_t)n >= len - used)
			break; /* truncated: keep what fits */
		used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "none");
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *usage;
} cmds[] = {
	{ "create", xl_cmd_create, "create [-c] [-p] [-q] [-n] <ConfigFile> [key=value ...]" },
	{ "list", xl_cmd_list, "list [-l] [-v] [<Domain> ...]" },
	{ "info", xl_cmd_info, "info" },
	{ "console", xl_cmd_console, "console <Domain>" },
	{ "pause", xl_cmd_pause, "pause <Domain>" },
	{ "unpause", xl_cmd_unpause, "unpause <Domain>" },
	{ "shutdown", xl_cmd_shutdown, "shutdown [-w] [-F] <Domain>" },
	{ "reboot", xl_cmd_reboot, "reboot [-w] [-F] <Domain>" },
	{ "destroy", xl_cmd_destroy, "destroy <Domain>" },
	{ "domid", xl_cmd_domid, "domid <DomainName>" },
	{ "save", xl_cmd_save, "save [-c] [-p] <Domain> <CheckpointFile> [<ConfigFile>]" },
	{ "restore", xl_cmd_restore,
	  "restore [-p] [-c] [-e] [-d] [-V] [<ConfigFile>] <CheckpointFile>" },
	{ "domname", xl_cmd_domname, "domname <DomainId>" },
	{ "block-attach", xl_cmd_block_attach, "block-attach <Domain> <DiskSpec>" },
	{ "block-detach", xl_cmd_block_detach, "block-detach <Domain> <DevId>" },
	{ "block-list", xl_cmd_block_list, "block-list <Domain>" },
	{ "network-attach", xl_cmd_network_attach, "network-attach <Domain> <VifSpec>" },
	{ "network-detach", xl_cmd_network_detach, "network-detach <Domain> <DevId|mac>" },
	{ "network-list", xl_cmd_network_list, "network-list <Domain>" },
	{ "vcpu-list", xl_cmd_vcpu_list, "vcpu-list [<Domain> ...]" },
	{ "vcpu-pin", xl_cmd_vcpu_pin,
	  "vcpu-pin [-f|--force] <Domain> <VCPU|all> <CPUs|all> [<CPUs-soft>]" },
	{ "vcpu-set", xl_cmd_vcpu_set, "vcpu-set [-i|--ignore-host] <Domain> <vCPUs count>" },
	{ "sched-credit", xl_cmd_sched_credit,
	  "sched-credit [-d <Domain> [-w <Weight>] [-c <Cap>]] [-s]" },
	{ "mem-set", xl_cmd_mem_set,
	  "mem-set <Domain> <MemMB['b'[bytes]|'k'[KB]|'m'[MB]|'g'[GB]|'t'[TB]]>" },
	{ "mem-max", xl_cmd_mem_max,
	  "mem-max <Domain> <MemMB['b'[bytes]|'k'[KB]|'m'[MB]|'g'[GB]|'t'[TB]]>" },
	{ "uptime", xl_cmd_uptime, "uptime [-s] [<Domain> ...]" },
	{ "dmesg", xl_cmd_dmesg, "dmesg [-c]" },
	{ "top", xl_cmd_top, "top [-b] [-i <Iterations>] [-d <Seconds>] [-f]" },
	{ "rename", xl_cmd_rename, "rename <Domain> <NewName>" },
	{ "sysrq", xl_cmd_sysrq, "sysrq <Domain> <letter>" },
	{ "trigger", xl_cmd_trigger,
	  "trigger <Domain> <nmi|reset|init|power|sleep|s3resume> [<VCPU>]" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: xl <subcommand> [args]\n\nSubcommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  xl %s\n", cmds[i].usage);
	fprintf(f,
		"\nThe host stack is found through SPLITVISOR_RUNDIR (default /run/splitvisor).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			if (argc > 2 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
				printf("Usage: xl %s\n", cmds[i].usage);
				return 0;
			}
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	xl_err("unknown subcommand '%s' (see 'xl help')", argv[1]);
	return 2;
}
