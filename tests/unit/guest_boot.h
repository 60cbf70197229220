// SPDX-License-Identifier: MIT
// The guest boot harness shared by the boot test's suites: boot a guest in a child, look at its
// console.
#ifndef TEST_GUEST_BOOT_H
#define TEST_GUEST_BOOT_H

#include <stdbool.h>
#include <stdint.h>
#include <check.h>

#include "../fakes/fakexen_guest.h"

/* How the child ends: SCHEDOP_shutdown(reason) or blocked for good. */
#define EXIT_SHUTDOWN 100
#define EXIT_BLOCKED 90
#define MAX_VCPUS 8

struct boot_opts {
	const char *cmdline;
	unsigned int vcpus;
	bool no_time;
	bool map_shinfo_fails;
	unsigned int events;
	bool refuse_first_initialise;
	struct fakexen_opts xen;
};

struct boot_result {
	char out[16384];
	int status;
	uint64_t ns;
};

/* Boot a guest in a child and collect its console and how it ended. */
void boot(const struct boot_opts *o, struct boot_result *r);

/* Whether the child exited with @code. */
bool exited_with(const struct boot_result *r, int code);

/* Whether the console holds @line as a whole line; how many times. */
bool has_line(const struct boot_result *r, const char *line);
int count_lines(const struct boot_result *r, const char *line);

#define ck_line(r, l) ck_assert_msg(has_line(r, l), "no line '%s' in:\n%s", l, (r)->out)

/* The test case of the guest's Xen devices (test_guest_xen.c). */
TCase *guest_xen_tcase(void);

#endif
