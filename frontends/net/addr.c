// SPDX-License-Identifier: MIT
// Parsing and printing IPv4 and MAC addresses for the stack's users.
#include <svk/lib.h>
#include <svk/net.h>
#include <svk/printk.h>
#include <svk/xen.h>

int net_parse_ip(const char *s, uint32_t *ip)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (!digits || digits > 3 || v > 255)
			return -XEN_EINVAL;
		b[i] = (uint8_t)v;
		if (i < 3 && *s++ != '.')
			return -XEN_EINVAL;
	}
	if (*s)
		return -XEN_EINVAL;
	memcpy(ip, b, 4);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int net_parse_mac(const char *s, uint8_t mac[ETH_ALEN])
{
	uint8_t m[ETH_ALEN];

	for (int i = 0; i < ETH_ALEN; i++) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (lo < 0)
			return -XEN_EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < ETH_ALEN - 1 && *s++ != ':')
			return -XEN_EINVAL;
	}
	if (*s)
		return -XEN_EINVAL;
	memcpy(mac, m, ETH_ALEN);
	return 0;
}

char *net_format_ip(uint32_t ip, char *buf)
{
	const uint8_t *b = (const uint8_t *)&ip;

	ksnprintf(buf, NET_IP_STR, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	return buf;
}

char *net_format_mac(const uint8_t mac[ETH_ALEN], char *buf)
{
	ksnprintf(buf, NET_MAC_STR, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		  mac[4], mac[5]);
	return buf;
}
