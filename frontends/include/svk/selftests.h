// SPDX-License-Identifier: MIT
// Command words that exercise xenbus, event channels, grants and the console ring (selftests.c).
#ifndef SVK_SELFTESTS_H
#define SVK_SELFTESTS_H

/*
 * Each is a command word's action (docs/guest-kernel.md says what it
 * prints); @arg is the text after '=' or NULL.
 */
void selftest_xs(const char *arg);
void selftest_xs_watch(const char *arg);
void selftest_pingpong(const char *arg);
void selftest_peer(const char *arg);
void selftest_grant(const char *arg);
void selftest_console_echo(const char *arg);
void selftest_xs_dev(const char *arg);
void selftest_xs_read(const char *arg);
void selftest_xs_bench(const char *arg);
void selftest_xs_stress(const char *arg);
void selftest_pv_abi(const char *arg);
void selftest_watchdog(const char *arg);
void selftest_gnttab_exhaust(const char *arg);
void selftest_evtchn_abi(const char *arg); /* evtchn-fifo (evtchn_abi.c) */

#endif
