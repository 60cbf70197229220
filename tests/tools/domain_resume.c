// SPDX-License-Identifier: MIT
/*
 * domain-resume: what a toolstack's resume after a failed or checkpointing
 * save does (libxc's xc_domain_resume; Xen's xl has no command of its own
 * for it), for tests/integration/pv_suspend.sh.
 *
 *   domain-resume DOMID [cancel]   resume (cancel: the guest's suspend returns 1)
 *   domain-resume DOMID hostile    bad requests, each refused with its errno
 *
 * Prints one line per request; exits 1 when an answer was not the expected one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sv/svctl.h"

static int failures;

static void expect(const char *what, int got, int want)
{
	printf("%s %s: %s\n", got == want ? "ok  " : "BAD ", what, got ? strerror(-got) : "0");
	if (got != want) {
		printf("     wanted %s\n", want ? strerror(-want) : "0");
		failures++;
	}
}

int main(int argc, char **argv)
{
	struct svctl *c;
	char *end;
	unsigned long domid;

	if (argc != 3 && argc != 2) {
		fprintf(stderr, "usage: domain-resume DOMID [cancel|hostile]\n");
		return 2;
	}
	domid = strtoul(argv[1], &end, 10);
	if (*end || domid >= 0x7ff0) {
		fprintf(stderr, "domain-resume: bad domid '%s'\n", argv[1]);
		return 2;
	}
	c = svctl_open(svctl_rundir());
	if (!c) {
		fprintf(stderr, "domain-resume: cannot reach the hypervisor: %s\n", strerror(errno));
		return 1;
	}
	if (argc == 2) {
		expect("resume", svctl_domain_resume(c, (uint32_t)domid, 0), 0);
	} else if (!strcmp(argv[2], "cancel")) {
		expect("resume cancel", svctl_domain_resume(c, (uint32_t)domid, SV_RESUME_CANCEL), 0);
	} else if (!strcmp(argv[2], "hostile")) {
		/* DOMID must be a live domain that is not suspended. */
		expect("unknown flags", svctl_domain_resume(c, (uint32_t)domid, 0x80000000u), -EINVAL);
		expect("cancel without a suspend",
		       svctl_domain_resume(c, (uint32_t)domid, SV_RESUME_CANCEL), -EINVAL);
		expect("no such domain", svctl_domain_resume(c, 0x7fef, 0), -ESRCH);
		expect("running domain: nothing to do", svctl_domain_resume(c, (uint32_t)domid, 0),
		       0);
	} else {
		fprintf(stderr, "domain-resume: unknown request '%s'\n", argv[2]);
		failures++;
	}
	svctl_close(c);
	return failures ? 1 : 0;
}
