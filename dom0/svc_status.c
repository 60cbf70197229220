// SPDX-License-Identifier: MIT
// The supervisor's status file: one line per service, replaced atomically, read by `splitvisor
// status`.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svc.h"

/*
 * Format of DIR/splitvisor.status (text, one record per line):
 *   supervisor PID
 *   engine NAME            (only when the stack was started with one)
 *   service NAME STATE PID RESTARTS SINCE_NS REQUIRED
 * STATE is a svc_state_name(), SINCE_NS is CLOCK_MONOTONIC, REQUIRED 0 or 1.
 */

static const char *const svc_state_names[] = {
	[SVC_NOT_INSTALLED] = "not-installed",
	[SVC_STARTING] = "starting",
	[SVC_RUNNING] = "running",
	[SVC_RESTARTING] = "restarting",
	[SVC_FAILED] = "failed",
	[SVC_STOPPED] = "stopped",
};

const char *svc_state_name(enum svc_state state)
{
	if ((unsigned int)state >= sizeof(svc_state_names) / sizeof(svc_state_names[0]))
		return "unknown";
	return svc_state_names[state];
}

int svc_state_parse(const char *text, enum svc_state *state)
{
	size_t i;

	for (i = 0; i < sizeof(svc_state_names) / sizeof(svc_state_names[0]); i++) {
		if (strcmp(text, svc_state_names[i]) == 0) {
			*state = (enum svc_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

int svc_status_write(const char *rundir, pid_t sup_pid, const char *engine,
		     const struct svc_status *st, size_t n)
{
	char path[4096], tmp[4096];
	FILE *f;
	size_t i;
	int fd, err = 0;

	if (svc_path(path, sizeof(path), rundir, SVC_STATUS_FILE) ||
	    svc_path(tmp, sizeof(tmp), rundir, SVC_STATUS_FILE ".tmp"))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto out_unlink;
	}
	fprintf(f, "supervisor %d\n", (int)sup_pid);
	if (engine && *engine)
		fprintf(f, "engine %s\n", engine);
	for (i = 0; i < n; i++)
		fprintf(f, "service %s %s %d %u %" PRId64 " %d\n", st[i].name,
			svc_state_name(st[i].state), (int)st[i].pid, st[i].restarts, st[i].since_ns,
			st[i].required ? 1 : 0);
	if (ferror(f))
		err = -EIO;
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (err)
		goto out_unlink;
	if (rename(tmp, path) < 0) {
		err = -errno;
		goto out_unlink;
	}
	return 0;

out_unlink:
	unlink(tmp);
	return err;
}

/* Parses one "service ..." line into st; 0 or -EBADMSG. */
static int svc_status_parse_line(const char *line, struct svc_status *st)
{
	char name[SVC_NAME_MAX], state[32];
	int pid, req;
	unsigned int restarts;
	int64_t since;

	if (sscanf(line, "service %31s %31s %d %u %" SCNd64 " %d", name, state, &pid, &restarts,
		   &since, &req) != 6)
		return -EBADMSG;
	if (svc_state_parse(state, &st->state) || pid < 0 || (req != 0 && req != 1))
		return -EBADMSG;
	memcpy(st->name, name, sizeof(name));
	st->pid = pid;
	st->restarts = restarts;
	st->since_ns = since;
	st->required = req;
	return 0;
}

int svc_status_read(const char *rundir, pid_t *sup_pid, char *engine, struct svc_status *st,
		    size_t max, size_t *n)
{
	char path[4096], line[256], name[SVC_ENGINE_MAX];
	int pid, err = 0;
	FILE *f;

	*n = 0;
	*sup_pid = 0;
	if (engine)
		engine[0] = '\0';
	if (svc_path(path, sizeof(path), rundir, SVC_STATUS_FILE))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "supervisor %d", &pid) == 1) {
			*sup_pid = pid;
		} else if (sscanf(line, "engine %15s", name) == 1) {
			if (engine)
				memcpy(engine, name, sizeof(name));
		} else if (strncmp(line, "service ", 8) == 0 && *n < max) {
			err = svc_status_parse_line(line, &st[*n]);
			if (err)
				break;
			(*n)++;
		}
	}
	fclose(f);
	return err;
}
