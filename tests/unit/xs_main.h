// SPDX-License-Identifier: MIT
// Shared main() for xenstored Check suites: each file defines xs_suite().
#ifndef TEST_XS_MAIN_H
#define TEST_XS_MAIN_H

#include <check.h>

static Suite *xs_suite(void);

int main(void)
{
	SRunner *r = srunner_create(xs_suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}

#endif
