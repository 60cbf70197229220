/* SPDX-License-Identifier: MIT */
/* xl_progress: one self-rewriting status line on stderr while xl waits, shown only on a terminal.
 */
#ifndef SV_XL_PROGRESS_H
#define SV_XL_PROGRESS_H

/*
 * Usage, around any wait loop:
 *
 *	xl_progress_start("Waiting for domain %s to shut down", name);
 *	while (...) {
 *		xl_progress_tick("state %s", letters);	// cheap: redraws at most 10 times a second
 *		...
 *	}
 *	xl_progress_done();				// erases the line; print results after it
 *
 * The line reads "<what>: <tick text> (N.N s)" and is redrawn in place.
 * Nothing is ever printed when stderr is not a terminal (a pipe, a file,
 * a test), when TERM is "dumb", or when XL_NO_PROGRESS is set, so scripts
 * and logs see exactly the output they saw before.  One progress line
 * exists at a time per process (the state is owned by xl_progress.c).
 * None of these calls fail or change errno.
 */
void xl_progress_start(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* New detail text for the line; NULL fmt keeps the last one (the time still moves). */
void xl_progress_tick(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Erase the line (if one was drawn) and end the progress. */
void xl_progress_done(void);

#endif
