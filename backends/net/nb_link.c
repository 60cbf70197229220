// SPDX-License-Identifier: MIT
/* Bridges, enslaving, link up and deletion through libnl-3 route: netback's only libnl user. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>

#include "nb.h"
#include "nb_link.h"

struct nb_link {
	struct nl_sock *sk;
};

/* libnl's NLE_* codes as errno values. */
static int nl_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case 0:
		return 0;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_NOACCESS:
	case NLE_PERM:
		return -EPERM;
	case NLE_AGAIN:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

struct nb_link *nb_link_open(void)
{
	struct nb_link *l = calloc(1, sizeof(*l));
	int ret;

	if (!l)
		return NULL;
	l->sk = nl_socket_alloc();
	if (!l->sk) {
		errno = ENOMEM;
		goto out_free;
	}
	ret = nl_connect(l->sk, NETLINK_ROUTE);
	if (ret < 0) {
		nb_log("netlink: %s", nl_geterror(ret));
		errno = -nl_errno(ret);
		goto out_sock;
	}
	return l;

out_sock:
	nl_socket_free(l->sk);
out_free:
	free(l);
	return NULL;
}

void nb_link_close(struct nb_link *l)
{
	if (!l)
		return;
	nl_socket_free(l->sk);
	free(l);
}

/* The kernel's current view of name, or NULL (then *err says why). */
static struct rtnl_link *get(struct nb_link *l, const char *name, int *err)
{
	struct rtnl_link *link = NULL;
	int ret = rtnl_link_get_kernel(l->sk, 0, name, &link);

	*err = nl_errno(ret);
	return ret < 0 ? NULL : link;
}

bool nb_link_exists(struct nb_link *l, const char *name)
{
	int err;
	struct rtnl_link *link = get(l, name, &err);

	if (link)
		rtnl_link_put(link);
	return link != NULL;
}

/* Applies change (flags, address) to the link called name. */
static int change(struct nb_link *l, const char *name, struct rtnl_link *chg)
{
	int err, ret;
	struct rtnl_link *link = get(l, name, &err);

	if (!link)
		return err;
	ret = rtnl_link_change(l->sk, link, chg, 0);
	rtnl_link_put(link);
	if (ret < 0) {
		nb_log("netlink: changing %s: %s", name, nl_geterror(ret));
		return nl_errno(ret);
	}
	return 0;
}

static int set_up(struct nb_link *l, const char *name)
{
	struct rtnl_link *chg = rtnl_link_alloc();
	int ret;

	if (!chg)
		return -ENOMEM;
	rtnl_link_set_flags(chg, IFF_UP);
	ret = change(l, name, chg);
	rtnl_link_put(chg);
	return ret;
}

int nb_link_bridge_ensure(struct nb_link *l, const char *br)
{
	struct rtnl_link *link;
	int ret;

	if (!br[0] || strlen(br) >= IFNAMSIZ)
		return -EINVAL;
	if (!nb_link_exists(l, br)) {
		link = rtnl_link_bridge_alloc();
		if (!link)
			return -ENOMEM;
		rtnl_link_set_name(link, br);
		ret = rtnl_link_add(l->sk, link, NLM_F_CREATE | NLM_F_EXCL);
		rtnl_link_put(link);
		/* Another netback or the admin may have won the race: fine. */
		if (ret < 0 && nl_errno(ret) != -EEXIST) {
			nb_log("netlink: creating bridge %s: %s", br, nl_geterror(ret));
			return nl_errno(ret);
		}
		if (!ret)
			nb_log("created bridge %s", br);
	}
	return set_up(l, br);
}

int nb_link_attach(struct nb_link *l, const char *ifname, const char *br, unsigned mtu)
{
	static const uint8_t mac[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct rtnl_link *chg, *master, *slave;
	struct nl_addr *addr;
	int ret, err;

	chg = rtnl_link_alloc();
	if (!chg)
		return -ENOMEM;
	addr = nl_addr_build(AF_LLC, mac, sizeof(mac));
	if (!addr) {
		rtnl_link_put(chg);
		return -ENOMEM;
	}
	rtnl_link_set_addr(chg, addr);
	if (mtu)
		rtnl_link_set_mtu(chg, mtu);
	ret = change(l, ifname, chg);
	nl_addr_put(addr);
	rtnl_link_put(chg);
	if (ret)
		return ret;
	master = get(l, br, &err);
	if (!master)
		return err;
	slave = get(l, ifname, &err);
	if (!slave) {
		rtnl_link_put(master);
		return err;
	}
	ret = rtnl_link_enslave(l->sk, master, slave);
	rtnl_link_put(slave);
	rtnl_link_put(master);
	if (ret < 0) {
		nb_log("netlink: adding %s to bridge %s: %s", ifname, br, nl_geterror(ret));
		return nl_errno(ret);
	}
	return set_up(l, ifname);
}

int nb_link_delete(struct nb_link *l, const char *ifname)
{
	int err, ret;
	struct rtnl_link *link = get(l, ifname, &err);

	if (!link)
		return err == -ENODEV ? 0 : err;
	ret = rtnl_link_delete(l->sk, link);
	rtnl_link_put(link);
	return ret < 0 && nl_errno(ret) != -ENODEV ? nl_errno(ret) : 0;
}
