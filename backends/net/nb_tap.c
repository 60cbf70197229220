// SPDX-License-Identifier: MIT
/* TAP queues through /dev/net/tun with virtio-net headers (IFF_VNET_HDR). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "nb_tap.h"

int nb_tap_open(const char *name)
{
	struct ifreq ifr;
	int fd, hdr = NB_VNET_HDR_LEN, ret;

	if (!name[0] || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = errno == EINVAL ? -EBUSY : -errno;
		goto out_close;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		ret = -errno;
		goto out_close;
	}
	return fd;

out_close:
	close(fd);
	return ret;
}

int nb_tap_set_offload(int fd, const struct nb_features *f)
{
	unsigned off = 0;

	if (f->csum) {
		off |= TUN_F_CSUM;
		/* TSO needs partial checksums and slots for 64 KiB packets. */
		if (f->sg && f->gso_tcpv4)
			off |= TUN_F_TSO4;
		if (f->sg && f->gso_tcpv6 && f->ipv6_csum)
			off |= TUN_F_TSO6;
	}
	return ioctl(fd, TUNSETOFFLOAD, off) < 0 ? -errno : 0;
}
