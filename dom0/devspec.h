// SPDX-License-Identifier: MIT
/* Parsers for xl's disk and vif device specification strings. */
#ifndef SV_DOM0_DEVSPEC_H
#define SV_DOM0_DEVSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Thread safety: no global state; each call touches only its arguments. */

/*
 * One virtual block device, as xl-disk-configuration(5) describes it.
 * Filled by sv_disk_parse(); every string is NUL-terminated.
 */
struct sv_disk {
	char target[4096]; /* image path or block device ("" = empty cdrom) */
	char vdev[32];	   /* "xvda", "hda", "sda", "d0p1"... as given */
	int devid;	   /* Xen's virtual device number (xen-vbd-interface(7)) */
	enum {
		SV_DISK_FMT_RAW,
		SV_DISK_FMT_QCOW,
		SV_DISK_FMT_QCOW2,
		SV_DISK_FMT_VHD,
		SV_DISK_FMT_QED,   /* accepted, like xl; no backend serves it */
		SV_DISK_FMT_EMPTY, /* a cdrom drive with no medium */
	} format;
	bool readonly;	      /* access=ro / r (always true for a cdrom) */
	bool cdrom;	      /* devtype=cdrom or the "cdrom" flag */
	char backendtype[16]; /* "phy", "qdisk", "tap" or "" (choose) */
	char script[256];     /* script= or a deprecated iscsi:/nbd:.. prefix */
	bool discard;	      /* advertise discard (default true; no-discard) */
	bool direct_io_safe;  /* the direct-io-safe flag */
	char backend[64];     /* backend= domain name, "" = dom0 */
};

/*
 * One virtual network interface, as xl-network-configuration(5)
 * describes it.  Filled by sv_vif_parse(); every string NUL-terminated,
 * "" meaning "not given, use the default".
 */
struct sv_vif {
	uint8_t mac[6];
	bool mac_set;	  /* when false the caller picks 00:16:3e:xx:xx:xx */
	char bridge[16];  /* IFNAMSIZ: at most 15 characters */
	char ip[256];	  /* space-separated list as given */
	char vifname[16]; /* backend interface name, at most 15 characters */
	char model[32], type[16], script[256], backend[64], gatewayip[64];
	char gatewaydev[16]; /* gatewaydev= (or its old name netdev=) */
	uint64_t rate_bytes_per_interval, rate_interval_usecs; /* 0 = unlimited */
	unsigned mtu; /* 0 = not given (match the bridge) */
	int devid;    /* devid= as given, -1 = next free index */
};

/*
 * Parses one DISKSPEC: the positional form "/img,raw,xvda,rw", the
 * key=value form "format=raw, vdev=xvda, access=rw, target=/x.img"
 * (target= must come last: it takes the rest of the string, commas and
 * all), any mix of both, and the deprecated forms ("phy:/dev/sdb,xvda,w",
 * "raw:/x.img,hda:cdrom,r").  Resets *d first.
 * Returns 0, or -EINVAL with a one-line message in err (errlen bytes,
 * always NUL-terminated) such as "disk spec 'foo': no vdev specified".
 */
int sv_disk_parse(struct sv_disk *d, const char *spec, char *err, size_t errlen);

/*
 * Maps a vdev name to Xen's virtual device number (xen-vbd-interface(7)):
 * xvda -> 51712, xvdq -> (1 << 28) | (16 << 8), hda -> 768, hdc -> 5632,
 * sda -> 2048, d0p1 -> 51713, or a plain number (decimal, 0x hex, 0 octal)
 * taken as is.  Returns the number, or -1 when vdev cannot be mapped.
 */
int sv_vdev_to_devid(const char *vdev);

/*
 * Parses one vifspec: comma-separated key=value pairs ("" is a valid
 * spec: all defaults).  Resets *v first.  Returns 0, or -EINVAL with a
 * message such as "vif spec 'mac=zz': invalid MAC address 'zz'".
 */
int sv_vif_parse(struct sv_vif *v, const char *spec, char *err, size_t errlen);

/* Parses "00:16:3e:01:02:03" (hex, one or two digits a group).  0 or -EINVAL. */
int sv_mac_parse(uint8_t mac[6], const char *s);

/*
 * Parses a vif rate: "RATE/s[@INTERVAL]" with RATE a number followed by
 * GB, MB, KB, B (bytes) or Gb, Mb, Kb, b (bits) and INTERVAL a number
 * followed by s, ms, us (or nothing: seconds); the interval defaults to
 * 50ms.  Sets *bytes to the credit per interval and *usecs to the
 * interval, e.g. "1MB/s@20ms" -> 20000 bytes every 20000 us.
 * Returns 0, -EINVAL for bad syntax or -EOVERFLOW for huge values.
 */
int sv_rate_parse(const char *s, uint64_t *bytes, uint64_t *usecs);

#endif /* SV_DOM0_DEVSPEC_H */
