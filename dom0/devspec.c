// SPDX-License-Identifier: MIT
/* Parsers for xl's disk and vif device specification strings. */
#include "devspec.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest spec we echo back in a message before eliding the rest. */
#define SPEC_ECHO_MAX 200

/* Formats "<what> spec '<spec>': <msg>" into err; always returns -EINVAL. */
static int __attribute__((format(printf, 5, 6)))
spec_err(char *err, size_t errlen, const char *what, const char *spec, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errlen)
		return -EINVAL;
	n = snprintf(err, errlen, "%s spec '%.*s%s': ", what, SPEC_ECHO_MAX, spec,
		     strlen(spec) > SPEC_ECHO_MAX ? "..." : "");
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Copies s[0..len) into dst (size dstlen); false if it does not fit. */
static bool copy_str(char *dst, size_t dstlen, const char *s, size_t len)
{
	if (len >= dstlen)
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

/* ---- vdev names -> Xen virtual device numbers ---- */

/*
 * Matches "<prefix><letters>[<partition>]" where the letters are a
 * bijective base-26 disk index (a=0 .. z=25, aa=26 ...) and the partition
 * a decimal without leading zero.  Limits as in xen-vbd-interface(7).
 */
static bool vdev_match(const char *vdev, const char *prefix, long max_disk, long max_part,
		       long *disk, long *part)
{
	size_t pl = strlen(prefix);
	const char *p;
	long d = -1, n = 0;

	if (strncmp(vdev, prefix, pl))
		return false;
	for (p = vdev + pl; *p >= 'a' && *p <= 'z'; p++) {
		d = (d + 1) * 26 + (*p - 'a');
		if (d > max_disk)
			return false;
	}
	if (d < 0)
		return false;
	if (*p) {
		if (*p == '0')
			return false;
		for (; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return false;
			n = n * 10 + (*p - '0');
			if (n > max_part)
				return false;
		}
	}
	*disk = d;
	*part = n;
	return true;
}

/* Parses a plain decimal without sign into *v (bounded by max). */
static bool parse_dec(const char *s, const char **end, long max, long *v)
{
	long n = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		n = n * 10 + (*s - '0');
		if (n > max)
			return false;
	}
	*end = s;
	*v = n;
	return true;
}

/* The "d<disk>[p<partition>]" form of xen-vbd-interface(7). */
static bool vdev_match_dp(const char *vdev, long *disk, long *part)
{
	const char *p;

	if (vdev[0] != 'd' || !parse_dec(vdev + 1, &p, (1L << 20) - 1, disk))
		return false;
	*part = 0;
	if (!*p)
		return true;
	if (*p != 'p' || !parse_dec(p + 1, &p, 255, part))
		return false;
	return *p == '\0';
}

int sv_vdev_to_devid(const char *vdev)
{
	long disk, part;
	unsigned long long num;
	char *end;

	if (!vdev || !*vdev)
		return -1;
	if (vdev_match_dp(vdev, &disk, &part) ||
	    vdev_match(vdev, "xvd", (1L << 20) - 1, 255, &disk, &part)) {
		if (disk <= 15 && part <= 15)
			return (202 << 8) | (disk << 4) | part;
		return (1 << 28) | (disk << 8) | part;
	}
	if (isdigit((unsigned char)vdev[0])) {
		errno = 0;
		num = strtoull(vdev, &end, 0);
		if (errno || *end || num > INT_MAX)
			return -1;
		return (int)num;
	}
	if (vdev_match(vdev, "hd", 3, 63, &disk, &part))
		return ((disk < 2 ? 3 : 22) << 8) | ((disk & 1) << 6) | part;
	if (vdev_match(vdev, "sd", 15, 15, &disk, &part))
		return (8 << 8) | (disk << 4) | part;
	return -1;
}

/* ---- disk specs ---- */

/* Parser state for one disk spec, mirroring xl's rules. */
struct disk_ctx {
	struct sv_disk *d;
	const char *spec;
	char *err;
	size_t errlen;
	bool target_set, format_set, vdev_set, access_set, depr_prefix;
};

#define DISK_ERR(c, ...) spec_err((c)->err, (c)->errlen, "disk", (c)->spec, __VA_ARGS__)

static int disk_set_format(struct disk_ctx *c, const char *v)
{
	static const struct {
		const char *name;
		int fmt;
	} fmts[] = {
		{ "", SV_DISK_FMT_RAW },	{ "raw", SV_DISK_FMT_RAW },
		{ "qcow", SV_DISK_FMT_QCOW },	{ "qcow2", SV_DISK_FMT_QCOW2 },
		{ "vhd", SV_DISK_FMT_VHD },	{ "qed", SV_DISK_FMT_QED },
		{ "empty", SV_DISK_FMT_EMPTY },
	};
	size_t i;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		if (strcmp(v, fmts[i].name))
			continue;
		if (c->format_set && (int)c->d->format != fmts[i].fmt)
			return DISK_ERR(c, "format given twice");
		c->d->format = fmts[i].fmt;
		c->format_set = true;
		return 0;
	}
	return DISK_ERR(c, "unknown format '%s'", v);
}

static int disk_set_access(struct disk_ctx *c, const char *v)
{
	if (!strcmp(v, "r") || !strcmp(v, "ro"))
		c->d->readonly = true;
	else if (!strcmp(v, "w") || !strcmp(v, "rw") || !*v)
		c->d->readonly = false;
	else
		return DISK_ERR(c, "unknown access mode '%s'", v);
	c->access_set = true;
	return 0;
}

/* Sets a string field once: giving a non-empty value twice is an error. */
static int disk_set_str(struct disk_ctx *c, const char *what, char *dst, size_t dstlen,
			const char *v, size_t len)
{
	if (*dst)
		return DISK_ERR(c, "%s given twice", what);
	if (!copy_str(dst, dstlen, v, len))
		return DISK_ERR(c, "%s too long (at most %zu characters)", what, dstlen - 1);
	return 0;
}

static int disk_set_vdev(struct disk_ctx *c, const char *v)
{
	int r = disk_set_str(c, "vdev", c->d->vdev, sizeof(c->d->vdev), v, strlen(v));

	c->vdev_set = true;
	return r;
}

/* The deprecated "<vdev>:<devtype>" positional; 1 if it was one. */
static int disk_vdev_devtype(struct disk_ctx *c, const char *tok)
{
	const char *colon = strrchr(tok, ':');
	char vdev[sizeof(c->d->vdev)];
	int r;

	if (!colon)
		return 0;
	if (!copy_str(vdev, sizeof(vdev), tok, colon - tok))
		return DISK_ERR(c, "vdev too long (at most %zu characters)", sizeof(vdev) - 1);
	r = disk_set_vdev(c, vdev);
	if (r)
		return r;
	if (!strcmp(colon + 1, "cdrom"))
		c->d->cdrom = true;
	else if (!strcmp(colon + 1, "disk"))
		c->d->cdrom = false;
	else
		return DISK_ERR(c, "unknown device type '%s'", colon + 1);
	return 1;
}

/* A token without '=': assigned to target, format, vdev, access in turn. */
static int disk_positional(struct disk_ctx *c, const char *tok)
{
	int r;

	if (!c->target_set) {
		c->target_set = true;
		return disk_set_str(c, "target", c->d->target, sizeof(c->d->target), tok,
				    strlen(tok));
	}
	if (!c->depr_prefix && !c->format_set) {
		if (!*c->d->target) {
			r = disk_vdev_devtype(c, tok);
			if (r < 0)
				return r;
			if (r) {
				c->d->format = SV_DISK_FMT_EMPTY;
				c->format_set = true;
				return 0;
			}
		}
		return disk_set_format(c, tok);
	}
	if (!c->vdev_set) {
		r = disk_vdev_devtype(c, tok);
		if (r)
			return r < 0 ? r : 0;
		return disk_set_vdev(c, tok);
	}
	if (!c->access_set)
		return disk_set_access(c, tok);
	return DISK_ERR(c, "too many positional parameters at '%s'", tok);
}

/* key=value parameters and bare flags; 1 if tok was not one of them. */
static int disk_keyword(struct disk_ctx *c, const char *tok)
{
	const char *eq = strchr(tok, '=');
	const char *v = eq ? eq + 1 : NULL;
	struct sv_disk *d = c->d;
	size_t klen = eq ? (size_t)(eq - tok) : strlen(tok);

#define KEY(k) (klen == sizeof(k) - 1 && !strncmp(tok, k, klen))
	if (!eq) {
		if (KEY("cdrom"))
			d->cdrom = true;
		else if (KEY("direct-io-safe"))
			d->direct_io_safe = true;
		else if (KEY("discard"))
			d->discard = true;
		else if (KEY("no-discard"))
			d->discard = false;
		else if (KEY("trusted") || KEY("untrusted") || KEY("no-colo"))
			; /* only matter to driver domains; accepted */
		else if (KEY("colo"))
			return DISK_ERR(c, "COLO is not supported");
		else
			return 1;
		return 0;
	}
	if (KEY("format"))
		return disk_set_format(c, v);
	if (KEY("access"))
		return disk_set_access(c, v);
	if (KEY("vdev"))
		return disk_set_vdev(c, v);
	if (KEY("devtype")) {
		if (!strcmp(v, "cdrom"))
			d->cdrom = true;
		else if (!strcmp(v, "disk"))
			d->cdrom = false;
		else
			return DISK_ERR(c, "unknown device type '%s'", v);
		return 0;
	}
	if (KEY("backendtype")) {
		if (strcmp(v, "phy") && strcmp(v, "qdisk") && strcmp(v, "tap"))
			return DISK_ERR(c, "unknown backendtype '%s'", v);
		if (*d->backendtype && strcmp(d->backendtype, v))
			return DISK_ERR(c, "backendtype given twice");
		snprintf(d->backendtype, sizeof(d->backendtype), "%s", v);
		return 0;
	}
	if (KEY("backend"))
		return disk_set_str(c, "backend", d->backend, sizeof(d->backend), v, strlen(v));
	if (KEY("script"))
		return disk_set_str(c, "script", d->script, sizeof(d->script), v, strlen(v));
	if (KEY("specification")) {
		if (!strcmp(v, "xen"))
			return 0;
		return DISK_ERR(c, "specification '%s' is not supported", v);
	}
	if (KEY("grant_usage")) {
		if (!strcmp(v, "1"))
			return 0;
		return DISK_ERR(c, "grant_usage=%s is not supported", v);
	}
	if (KEY("colo-host") || KEY("colo-port") || KEY("colo-export") || KEY("active-disk") ||
	    KEY("hidden-disk"))
		return DISK_ERR(c, "COLO is not supported");
#undef KEY
	if (isalpha((unsigned char)tok[0]))
		return DISK_ERR(c, "unknown parameter '%.*s'", (int)klen, tok);
	return DISK_ERR(c, "bad disk syntax near '%s'", tok);
}

/*
 * A deprecated "<prefix>:" at the start of a positional parameter
 * ("phy:", "raw:", "tap:aio:" ...).  Returns the number of characters
 * consumed (0: not a prefix) or -EINVAL.
 */
static int disk_prefix(struct disk_ctx *c, const char *p)
{
	static const char *const ignored[] = { "tapdisk", "tap",  "tap2", "aio",
					       "ioemu",	  "file", "phy" };
	static const char *const scripts[] = { "iscsi", "nbd", "enbd", "drbd" };
	char name[16], script[32];
	size_t n = 0, i;
	int r;

	if (!(p[0] >= 'a' && p[0] <= 'z'))
		return 0;
	while ((p[n] >= 'a' && p[n] <= 'z') || isdigit((unsigned char)p[n]))
		n++;
	if (p[n] != ':' || n >= sizeof(name))
		return 0;
	memcpy(name, p, n);
	name[n] = '\0';

	if (!strcmp(name, "raw") || !strcmp(name, "qcow") || !strcmp(name, "qcow2") ||
	    !strcmp(name, "vhd")) {
		c->depr_prefix = true;
		r = disk_set_format(c, name);
		return r ? r : (int)n + 1;
	}
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		if (strcmp(name, scripts[i]))
			continue;
		c->depr_prefix = true;
		snprintf(script, sizeof(script), "block-%s", name);
		r = disk_set_str(c, "script", c->d->script, sizeof(c->d->script), script,
				 strlen(script));
		return r ? r : (int)n + 1;
	}
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		if (!strcmp(name, ignored[i])) {
			c->depr_prefix = true;
			return (int)n + 1;
		}
	}
	/* "hdc:cdrom" is a vdev with a device type, not a prefix. */
	if ((p[n + 1] >= 'a' && p[n + 1] <= 'z') || isdigit((unsigned char)p[n + 1]))
		return 0;
	return DISK_ERR(c, "unknown deprecated disk prefix '%s:'", name);
}

int sv_disk_parse(struct sv_disk *d, const char *spec, char *err, size_t errlen)
{
	struct disk_ctx c = { .d = d, .spec = spec, .err = err, .errlen = errlen };
	char tok[4096 + 64];
	const char *p = spec, *comma;
	size_t len;
	int r;

	memset(d, 0, sizeof(*d));
	d->devid = -1;
	d->discard = true;
	if (err && errlen)
		err[0] = '\0';
	if (!spec)
		return spec_err(err, errlen, "disk", "", "no spec");

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		if (!strncmp(p, "target=", 7)) {
			/* Takes the rest of the spec, less one trailing comma. */
			p += 7;
			len = strlen(p);
			if (len && p[len - 1] == ',')
				len--;
			c.target_set = true; /* may replace an empty positional */
			r = disk_set_str(&c, "target", d->target, sizeof(d->target), p, len);
			if (r)
				return r;
			break;
		}
		r = disk_prefix(&c, p);
		if (r < 0)
			return r;
		if (r > 0) {
			p += r;
			continue;
		}
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (!copy_str(tok, sizeof(tok), p, len))
			return DISK_ERR(&c, "parameter too long");
		p = comma ? comma + 1 : p + len;
		while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t' || tok[len - 1] == '\n'))
			tok[--len] = '\0';
		r = disk_keyword(&c, tok);
		if (r < 0)
			return r;
		if (r == 1) {
			r = disk_positional(&c, tok);
			if (r)
				return r;
		}
	}

	if (d->cdrom) {
		d->readonly = true;
		if (!*d->target)
			d->format = SV_DISK_FMT_EMPTY;
	}
	if (!*d->vdev)
		return DISK_ERR(&c, "no vdev specified");
	if (!*d->target && !d->cdrom)
		return DISK_ERR(&c, "no target specified (and not a cdrom)");
	d->devid = sv_vdev_to_devid(d->vdev);
	if (d->devid < 0)
		return DISK_ERR(&c, "invalid virtual device '%s'", d->vdev);
	return 0;
}

/* ---- vif specs ---- */

int sv_mac_parse(uint8_t mac[6], const char *s)
{
	unsigned i, v, digits;

	if (!s)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		v = 0;
		for (digits = 0; isxdigit((unsigned char)*s) && digits < 3; digits++, s++)
			v = v * 16 + (isdigit((unsigned char)*s)
					  ? *s - '0'
					  : (tolower((unsigned char)*s) - 'a' + 10));
		if (digits == 0 || digits > 2)
			return -EINVAL;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
		mac[i] = (uint8_t)v;
	}
	return *s ? -EINVAL : 0;
}

/* Decimal digits of s into *v; at least one, no overflow past max. */
static int parse_u64(const char **s, uint64_t max, uint64_t *v)
{
	uint64_t n = 0;
	const char *p = *s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (max - (uint64_t)(*p - '0')) / 10)
			return -EOVERFLOW;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*s = p;
	*v = n;
	return 0;
}

int sv_rate_parse(const char *s, uint64_t *bytes, uint64_t *usecs)
{
	uint64_t rate, ival = 50000, mult = 1;
	const char *p = s;
	bool bits;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_u64(&p, UINT32_MAX, &rate);
	if (r)
		return r;
	if (rate == 0)
		return -EINVAL;
	if (*p == 'G')
		mult = 1000000000ULL, p++;
	else if (*p == 'M')
		mult = 1000000ULL, p++;
	else if (*p == 'K')
		mult = 1000ULL, p++;
	if (*p != 'B' && *p != 'b')
		return -EINVAL;
	bits = *p++ == 'b';
	if (strncmp(p, "/s", 2))
		return -EINVAL;
	p += 2;
	rate *= mult; /* at most 2^32 * 10^9 < 2^62: no overflow */
	if (bits)
		rate /= 8;
	if (*p == '@') {
		p++;
		r = parse_u64(&p, UINT32_MAX, &ival);
		if (r)
			return r;
		if (ival == 0)
			return -EINVAL;
		if (!strcmp(p, "s") || !*p)
			ival *= 1000000;
		else if (!strcmp(p, "ms") || !strcmp(p, "m"))
			ival *= 1000;
		else if (strcmp(p, "us") && strcmp(p, "u"))
			return -EINVAL;
		if (ival > UINT32_MAX)
			return -EOVERFLOW;
	} else if (*p) {
		return -EINVAL;
	}
	/* rate < 2^62 / 8 is not guaranteed below 2^32: check the product. */
	if (rate > UINT64_MAX / ival)
		return -EOVERFLOW;
	*bytes = rate * ival / 1000000;
	*usecs = ival;
	return 0;
}

#define VIF_ERR(...) spec_err(err, errlen, "vif", spec, __VA_ARGS__)

/* Stores a vif string value; too long is an error naming the key. */
static int vif_str(char *dst, size_t dstlen, const char *key, const char *v, const char *spec,
		   char *err, size_t errlen)
{
	if (!copy_str(dst, dstlen, v, strlen(v)))
		return VIF_ERR("%s '%s' too long (at most %zu characters)", key, v, dstlen - 1);
	return 0;
}

/* Parses a decimal/hex unsigned into *out, bounded by max. */
static bool vif_ulong(const char *v, unsigned long max, unsigned long *out)
{
	unsigned long n;
	char *end;

	if (!isdigit((unsigned char)*v))
		return false;
	errno = 0;
	n = strtoul(v, &end, 0);
	if (errno || *end || n > max)
		return false;
	*out = n;
	return true;
}

/* One "key=value" or flag of a vif spec. */
static int vif_item(struct sv_vif *vif, const char *tok, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(tok, '=');
	const char *v = eq ? eq + 1 : "";
	size_t klen = eq ? (size_t)(eq - tok) : strlen(tok);
	unsigned long n;
	int r;

#define KEY(k) (klen == sizeof(k) - 1 && !strncmp(tok, k, klen))
#define STR(field, k) vif_str(vif->field, sizeof(vif->field), k, v, spec, err, errlen)
	if (!eq) {
		if (KEY("trusted") || KEY("untrusted"))
			return 0;
		if (!*tok)
			return 0;
		return VIF_ERR("unknown flag '%s'", tok);
	}
	if (KEY("mac")) {
		if (sv_mac_parse(vif->mac, v))
			return VIF_ERR("invalid MAC address '%s'", v);
		if (vif->mac[0] & 1)
			return VIF_ERR("MAC address '%s' is a multicast address", v);
		vif->mac_set = true;
		return 0;
	}
	if (KEY("bridge"))
		return STR(bridge, "bridge");
	if (KEY("ip"))
		return STR(ip, "ip");
	if (KEY("vifname"))
		return STR(vifname, "vifname");
	if (KEY("model"))
		return STR(model, "model");
	if (KEY("script"))
		return STR(script, "script");
	if (KEY("backend"))
		return STR(backend, "backend");
	if (KEY("gatewayip"))
		return STR(gatewayip, "gatewayip");
	if (KEY("gatewaydev") || KEY("netdev"))
		return STR(gatewaydev, "gatewaydev");
	if (KEY("type")) {
		if (strcmp(v, "ioemu") && strcmp(v, "vif"))
			return VIF_ERR("unknown type '%s' (expected ioemu or vif)", v);
		return STR(type, "type");
	}
	if (KEY("rate")) {
		r = sv_rate_parse(v, &vif->rate_bytes_per_interval, &vif->rate_interval_usecs);
		if (r == -EOVERFLOW)
			return VIF_ERR("rate '%s' is too large", v);
		if (r)
			return VIF_ERR("invalid rate '%s' (expected e.g. 10Mb/s or 1MB/s@20ms)", v);
		return 0;
	}
	if (KEY("mtu")) {
		if (!vif_ulong(v, 65535, &n) || n < 68)
			return VIF_ERR("invalid mtu '%s' (expected 68..65535)", v);
		vif->mtu = (unsigned)n;
		return 0;
	}
	if (KEY("devid")) {
		if (!vif_ulong(v, 65535, &n))
			return VIF_ERR("invalid devid '%s'", v);
		vif->devid = (int)n;
		return 0;
	}
	if (KEY("accel") || KEY("forwarddev") || KEY("vid") || KEY("vlan"))
		return VIF_ERR("'%.*s' is not supported", (int)klen, tok);
#undef STR
#undef KEY
	return VIF_ERR("unknown keyword '%.*s'", (int)klen, tok);
}

int sv_vif_parse(struct sv_vif *v, const char *spec, char *err, size_t errlen)
{
	char tok[512];
	const char *p = spec, *comma;
	size_t len;
	int r;

	memset(v, 0, sizeof(*v));
	v->devid = -1;
	if (err && errlen)
		err[0] = '\0';
	if (!spec)
		return spec_err(err, errlen, "vif", "", "no spec");
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (!copy_str(tok, sizeof(tok), p, len))
			return VIF_ERR("parameter too long");
		p = comma ? comma + 1 : p + len;
		while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t' || tok[len - 1] == '\n'))
			tok[--len] = '\0';
		r = vif_item(v, tok, spec, err, errlen);
		if (r)
			return r;
	}
	return 0;
}
