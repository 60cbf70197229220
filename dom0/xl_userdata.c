// SPDX-License-Identifier: MIT
/*
 * libxl's per-domain record, so that Xen's own toolstack (Debian's xl
 * list -l) knows the configuration of the domains our xl created: libxl
 * reads XEN_LIB_DIR/userdata-d.DOMID.UUID.libxl-json, the
 * libxl_domain_config JSON that its own xl create writes.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include "sv/svctl.h"
#include "userdata_links.h"
#include "xl.h"

#define XL_XEN_LIB_DIR SV_XEN_LIB_DIR

void xl_userdata_write(const struct sv_config *cfg, uint32_t domid, const char *uuid)
{
	char path[256], tmp[272];
	struct json_object *o, *b_info;
	const char *text;
	struct stat st;
	int fd;
	size_t len;

	/* No XEN_LIB_DIR (made by xen-utils-common): no Xen toolstack to tell. */
	if (stat(XL_XEN_LIB_DIR, &st) || !S_ISDIR(st.st_mode))
		return;
	xl_userdata_remove(domid); /* a dead domain's of the same id */
	snprintf(path, sizeof(path), XL_XEN_LIB_DIR "/userdata-d.%u.%s.libxl-json", domid, uuid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	o = xl_config_json(cfg, uuid);
	/* libxl tells the build info's kind by its "type.pv" member (keyed union). */
	if (o && json_object_object_get_ex(o, "b_info", &b_info) &&
	    !json_object_object_get_ex(b_info, "type.pv", NULL)) {
		struct json_object *pv = json_object_new_object();

		if (!pv || json_object_object_add(b_info, "type.pv", pv)) {
			json_object_put(pv);
			json_object_put(o);
			o = NULL;
		}
	}
	text = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE)
		 : NULL;
	if (!text) {
		xl_err("warning: domain '%s': no libxl record: out of memory", cfg->name);
		goto out;
	}
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		bool ok = write(fd, text, len) == (ssize_t)len && !fsync(fd);

		if (close(fd) || !ok)
			fd = -1;
	}
	if (fd < 0 || rename(tmp, path)) {
		xl_err("warning: domain '%s': cannot write %s: %s", cfg->name, path,
		       strerror(errno));
		unlink(tmp);
	} else {
		sv_userdata_link(svctl_rundir(), domid, path); /* the stack's stop removes it */
	}
out:
	json_object_put(o);
}

void xl_userdata_remove(uint32_t domid)
{
	char prefix[48];
	struct dirent *e;
	size_t plen;
	DIR *d;

	sv_userdata_unlink(svctl_rundir(), domid);
	d = opendir(XL_XEN_LIB_DIR);
	if (!d)
		return;
	/* As libxl's own destroy: userdata-?.DOMID.* (records and their locks). */
	plen = (size_t)snprintf(prefix, sizeof(prefix), ".%u.", domid);
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "userdata-", 9) && e->d_name[9] &&
		    !strncmp(e->d_name + 10, prefix, plen))
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}
