// SPDX-License-Identifier: MIT
/* The config text a domain was created with, kept for xl save (xl_domain.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "xl.h"
#include "xl_domain.h"

const char *xl_cfg_text;
size_t xl_cfg_len;

static int read_fd(int fd, char **text, size_t *len)
{
	size_t cap = 4096, got = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (got == cap) {
			if (cap >= XL_CONFIG_MAX) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			char *n = realloc(buf, cap + 1);
			if (!n) {
				free(buf);
				return -ENOMEM;
			}
			buf = n;
		}
		ssize_t r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(buf);
			return e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > XL_CONFIG_MAX) {
		free(buf);
		return -EFBIG;
	}
	buf[got] = '\0';
	*text = buf;
	*len = got;
	return 0;
}

int xl_config_read_file(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		ret = -errno;
		xl_err("cannot read config file '%s': %s", path, strerror(-ret));
		return ret;
	}
	ret = read_fd(fd, text, len);
	close(fd);
	if (ret)
		xl_err("cannot read config file '%s': %s", path, strerror(-ret));
	return ret;
}

int xl_config_set_text(const char *path, char **overrides, int n)
{
	char *text;
	size_t len;
	int ret = xl_config_read_file(path, &text, &len);

	if (ret)
		return ret;
	for (int i = 0; i < n; i++) {
		size_t add = strlen(overrides[i]) + 2;
		char *t = len + add > XL_CONFIG_MAX ? NULL : realloc(text, len + add + 1);
		if (!t) {
			free(text);
			xl_err("config '%s' with its overrides is too large", path);
			return -EFBIG;
		}
		text = t;
		len += (size_t)snprintf(text + len, add + 1, "\n%s", overrides[i]);
	}
	free((void *)xl_cfg_text);
	xl_cfg_text = text;
	xl_cfg_len = len;
	return 0;
}

static void record_path(char *buf, size_t cap, uint32_t domid)
{
	snprintf(buf, cap, "%s/xl-config/%u", svctl_rundir(), domid);
}

void xl_config_record(uint32_t domid, const char *text, size_t len)
{
	char dir[4096], path[4200], tmp[4300];
	int fd;

	snprintf(dir, sizeof(dir), "%s/xl-config", svctl_rundir());
	if (mkdir(dir, 0700) && errno != EEXIST)
		goto fail;
	record_path(path, sizeof(path), domid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	bool ok = write(fd, text, len) == (ssize_t)len;
	if (close(fd) || !ok || rename(tmp, path)) {
		unlink(tmp);
		goto fail;
	}
	return;
fail:
	xl_err("warning: domain %u: cannot record its config for xl save: %s", domid,
	       strerror(errno));
}

int xl_config_recorded(uint32_t domid, char **text, size_t *len)
{
	char path[4200];
	int fd, ret;

	record_path(path, sizeof(path), domid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read_fd(fd, text, len);
	close(fd);
	return ret;
}

void xl_config_forget(uint32_t domid)
{
	char path[4200];

	record_path(path, sizeof(path), domid);
	unlink(path);
}
