// SPDX-License-Identifier: MIT
/* Check suite for dom0/devspec.c: disk and vif specs, vdevs, MACs, rates. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../dom0/devspec.h"

static char err[512];

/* Parses a disk spec that must be valid. */
static struct sv_disk disk_ok(const char *spec)
{
	struct sv_disk d;
	int r = sv_disk_parse(&d, spec, err, sizeof(err));

	ck_assert_msg(r == 0, "spec '%s' failed: %s", spec, err);
	return d;
}

/* Parses a disk spec that must fail with a message containing want. */
static void disk_bad(const char *spec, const char *want)
{
	struct sv_disk d;
	int r = sv_disk_parse(&d, spec, err, sizeof(err));

	ck_assert_msg(r == -EINVAL, "spec '%s' gave %d", spec, r);
	ck_assert_msg(strstr(err, want), "spec '%s': message '%s' lacks '%s'", spec, err, want);
	ck_assert_msg(!strncmp(err, "disk spec '", 11), "message '%s'", err);
}

START_TEST(vdev_numbers)
{
	ck_assert_int_eq(sv_vdev_to_devid("xvda"), 51712);
	ck_assert_int_eq(sv_vdev_to_devid("xvdb"), 51728);
	ck_assert_int_eq(sv_vdev_to_devid("xvda1"), 51713);
	ck_assert_int_eq(sv_vdev_to_devid("xvdp15"), 51712 + 15 * 16 + 15);
	ck_assert_int_eq(sv_vdev_to_devid("xvdq"), (1 << 28) | (16 << 8));
	ck_assert_int_eq(sv_vdev_to_devid("xvda16"), (1 << 28) | 16);
	ck_assert_int_eq(sv_vdev_to_devid("xvdaa"), (1 << 28) | (26 << 8));
	ck_assert_int_eq(sv_vdev_to_devid("xvdtq37"), (1 << 28) | (536 << 8) | 37);
	ck_assert_int_eq(sv_vdev_to_devid("hda"), 768);
	ck_assert_int_eq(sv_vdev_to_devid("hdb"), 768 + 64);
	ck_assert_int_eq(sv_vdev_to_devid("hdc"), 22 << 8);
	ck_assert_int_eq(sv_vdev_to_devid("hdd2"), (22 << 8) | 64 | 2);
	ck_assert_int_eq(sv_vdev_to_devid("sda"), 2048);
	ck_assert_int_eq(sv_vdev_to_devid("sdb3"), 2048 + 16 + 3);
	ck_assert_int_eq(sv_vdev_to_devid("d0"), 51712);
	ck_assert_int_eq(sv_vdev_to_devid("d0p1"), 51713);
	ck_assert_int_eq(sv_vdev_to_devid("d1p2"), 51712 + 16 + 2);
	ck_assert_int_eq(sv_vdev_to_devid("d536p37"), (1 << 28) | (536 << 8) | 37);
	ck_assert_int_eq(sv_vdev_to_devid("51712"), 51712);
	ck_assert_int_eq(sv_vdev_to_devid("0xca00"), 51712);
}
END_TEST

START_TEST(vdev_invalid)
{
	static const char *const bad[] = {
		"",	 "xvd",	      "xvda0", "xvda01", "xvda256",  "hde",
		"hda64", "sdq",	      "sda16", "vda",	 "xvdA",     "xvda-1",
		"d",	 "dp1",	      "d1p",   "d1p256", "d1048576", "99999999999999999999",
		"0x",	 "xvdzzzzzz", "hd",    "xvda1x",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sv_vdev_to_devid(bad[i]) == -1, "'%s' mapped to %d", bad[i],
			      sv_vdev_to_devid(bad[i]));
	ck_assert_int_eq(sv_vdev_to_devid(NULL), -1);
}
END_TEST

START_TEST(disk_positional)
{
	struct sv_disk d = disk_ok("/dev/vg/guest-volume,,hda");

	ck_assert_str_eq(d.target, "/dev/vg/guest-volume");
	ck_assert_str_eq(d.vdev, "hda");
	ck_assert_int_eq(d.devid, 768);
	ck_assert_int_eq(d.format, SV_DISK_FMT_RAW);
	ck_assert(!d.readonly && !d.cdrom && d.discard);

	d = disk_ok("/img/a.qcow2,qcow2,xvdb,ro");
	ck_assert_str_eq(d.target, "/img/a.qcow2");
	ck_assert_int_eq(d.format, SV_DISK_FMT_QCOW2);
	ck_assert_int_eq(d.devid, 51728);
	ck_assert(d.readonly);

	d = disk_ok("/x.img,raw,xvda,w");
	ck_assert(!d.readonly);
}
END_TEST

START_TEST(disk_keywords)
{
	struct sv_disk d = disk_ok("format=raw, vdev=xvda, access=rw, target=/x.img");

	ck_assert_str_eq(d.target, "/x.img");
	ck_assert_str_eq(d.vdev, "xvda");
	ck_assert(!d.readonly);

	/* target= takes the rest, commas and all. */
	d = disk_ok("vdev=xvdb,access=r,target=/odd,name,with=equals");
	ck_assert_str_eq(d.target, "/odd,name,with=equals");
	ck_assert(d.readonly);

	d = disk_ok("/x.img,vdev=xvdc,backendtype=qdisk,script=block-foo,"
		    "no-discard,direct-io-safe,backend=driverdom");
	ck_assert_str_eq(d.backendtype, "qdisk");
	ck_assert_str_eq(d.script, "block-foo");
	ck_assert_str_eq(d.backend, "driverdom");
	ck_assert(!d.discard && d.direct_io_safe);
}
END_TEST

START_TEST(disk_cdrom)
{
	struct sv_disk d = disk_ok("/root/image.iso,,hdc,cdrom");

	ck_assert(d.cdrom && d.readonly);
	ck_assert_int_eq(d.devid, 5632);

	d = disk_ok("/root/image.iso,raw,hdc,devtype=cdrom");
	ck_assert(d.cdrom && d.readonly);
	d = disk_ok("format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso");
	ck_assert(d.cdrom);
	ck_assert_str_eq(d.target, "/root/image.iso");

	/* Deprecated forms, and the empty drive. */
	d = disk_ok("raw:/root/image.iso,hdc:cdrom,ro");
	ck_assert(d.cdrom);
	ck_assert_str_eq(d.target, "/root/image.iso");
	ck_assert_str_eq(d.vdev, "hdc");
	d = disk_ok(",hdc:cdrom,r");
	ck_assert(d.cdrom);
	ck_assert_str_eq(d.target, "");
	ck_assert_int_eq(d.format, SV_DISK_FMT_EMPTY);
	d = disk_ok("vdev=hdc,devtype=cdrom");
	ck_assert_int_eq(d.format, SV_DISK_FMT_EMPTY);
}
END_TEST

START_TEST(disk_deprecated_prefix)
{
	struct sv_disk d = disk_ok("phy:/dev/sdb,xvda,w");

	ck_assert_str_eq(d.target, "/dev/sdb");
	ck_assert_str_eq(d.vdev, "xvda");
	ck_assert(!d.readonly);

	d = disk_ok("tap:aio:/images/a.img,xvdb,r");
	ck_assert_str_eq(d.target, "/images/a.img");
	ck_assert(d.readonly);
	d = disk_ok("file:/images/a.img,xvdb,w");
	ck_assert_str_eq(d.target, "/images/a.img");
	d = disk_ok("tap:qcow2:/images/a.qcow2,xvdc,w");
	ck_assert_int_eq(d.format, SV_DISK_FMT_QCOW2);
	d = disk_ok("iscsi:iqn.2001-05.com.example:disk,xvdd,w");
	ck_assert_str_eq(d.script, "block-iscsi");
	ck_assert_str_eq(d.target, "iqn.2001-05.com.example:disk");
	d = disk_ok("raw:/x.img,hda,w");
	ck_assert_int_eq(d.format, SV_DISK_FMT_RAW);
}
END_TEST

START_TEST(disk_errors)
{
	disk_bad("/dev/sdb,,xvda,q", "unknown access mode 'q'");
	disk_bad("/x.img,raw,xvda,access=q", "unknown access mode 'q'");
	disk_bad("foo", "no vdev specified");
	disk_bad("", "no vdev specified");
	disk_bad("vdev=xvda", "no target specified");
	disk_bad("/x.img,cow,xvda", "unknown format 'cow'");
	disk_bad("/x.img,raw,vda", "invalid virtual device 'vda'");
	disk_bad("/x.img,raw,xvda,rw,extra", "too many positional parameters");
	disk_bad("/x.img,,xvda,colour=blue", "unknown parameter 'colour'");
	disk_bad("/x.img,,xvda,devtype=floppy", "unknown device type 'floppy'");
	disk_bad("/x.img,,xvda,backendtype=nbd", "unknown backendtype 'nbd'");
	disk_bad("/x.img,,xvda,vdev=xvdb", "vdev given twice");
	disk_bad("/x.img,qcow2,xvda,format=raw", "format given twice");
	disk_bad("/a,,xvda,target=/b", "target given twice");
	disk_bad("bogus:/x.img,xvda,w", "unknown deprecated disk prefix 'bogus:'");
	disk_bad("/x.img,,xvda,colo", "COLO is not supported");
	disk_bad("/x.img,,hdc:floppy", "unknown device type 'floppy'");
	disk_bad("/x=y,,xvda", "bad disk syntax");
	disk_bad("/x.img,,xvdaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "vdev too long");
}
END_TEST

START_TEST(disk_hostile)
{
	static char big[20000];
	struct sv_disk d;

	/* Over-long target: an error, never an overflow. */
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "/", 1);
	ck_assert_int_eq(sv_disk_parse(&d, big, err, sizeof(err)), -EINVAL);
	memcpy(big, "vdev=xvda,target=/", 18);
	ck_assert_int_eq(sv_disk_parse(&d, big, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "target too long"));
	/* The echoed spec is cut short: the message still fits. */
	ck_assert_ptr_nonnull(strstr(err, "...'"));
	/* A tiny error buffer still gets a NUL-terminated message. */
	ck_assert_int_eq(sv_disk_parse(&d, "foo", err, 8), -EINVAL);
	ck_assert_int_eq(strlen(err), 7);
	ck_assert_int_eq(sv_disk_parse(&d, "foo", NULL, 0), -EINVAL);
	ck_assert_int_eq(sv_disk_parse(&d, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(sv_disk_parse(&d, ",,,,,,,,,,,,", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(sv_disk_parse(&d, "::::", err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(mac_parse)
{
	uint8_t m[6];

	ck_assert_int_eq(sv_mac_parse(m, "00:16:3E:74:3d:76"), 0);
	ck_assert_int_eq(m[0], 0x00);
	ck_assert_int_eq(m[2], 0x3e);
	ck_assert_int_eq(m[5], 0x76);
	ck_assert_int_eq(sv_mac_parse(m, "0:1:2:3:4:5"), 0);
	ck_assert_int_eq(m[5], 5);
	ck_assert_int_eq(sv_mac_parse(m, "00:16:3e:74:3d"), -EINVAL);
	ck_assert_int_eq(sv_mac_parse(m, "00:16:3e:74:3d:76:00"), -EINVAL);
	ck_assert_int_eq(sv_mac_parse(m, "000:16:3e:74:3d:76"), -EINVAL);
	ck_assert_int_eq(sv_mac_parse(m, "00-16-3e-74-3d-76"), -EINVAL);
	ck_assert_int_eq(sv_mac_parse(m, "gg:16:3e:74:3d:76"), -EINVAL);
	ck_assert_int_eq(sv_mac_parse(m, ""), -EINVAL);
	ck_assert_int_eq(sv_mac_parse(m, NULL), -EINVAL);
}
END_TEST

START_TEST(rate_parse)
{
	uint64_t b, us;

	ck_assert_int_eq(sv_rate_parse("10Mb/s", &b, &us), 0);
	ck_assert_uint_eq(us, 50000);
	ck_assert_uint_eq(b, 1250000ULL * 50000 / 1000000);
	ck_assert_int_eq(sv_rate_parse("1MB/s@20ms", &b, &us), 0);
	ck_assert_uint_eq(b, 20000);
	ck_assert_uint_eq(us, 20000);
	ck_assert_int_eq(sv_rate_parse("250KB/s", &b, &us), 0);
	ck_assert_uint_eq(b, 12500);
	ck_assert_int_eq(sv_rate_parse("8b/s@1s", &b, &us), 0);
	ck_assert_uint_eq(b, 1);
	ck_assert_uint_eq(us, 1000000);
	ck_assert_int_eq(sv_rate_parse("1GB/s@100us", &b, &us), 0);
	ck_assert_uint_eq(b, 100000);
	ck_assert_uint_eq(us, 100);
	ck_assert_int_eq(sv_rate_parse("1GB/s@2", &b, &us), 0);
	ck_assert_uint_eq(us, 2000000);

	ck_assert_int_eq(sv_rate_parse("", &b, &us), -EINVAL);
	ck_assert_int_eq(sv_rate_parse("10", &b, &us), -EINVAL);
	ck_assert_int_eq(sv_rate_parse("10Mb", &b, &us), -EINVAL);
	ck_assert_int_eq(sv_rate_parse("0MB/s", &b, &us), -EINVAL);
	ck_assert_int_eq(sv_rate_parse("10MB/s@", &b, &us), -EINVAL);
	ck_assert_int_eq(sv_rate_parse("10MB/s@5h", &b, &us), -EINVAL);
	ck_assert_int_eq(sv_rate_parse("10MB/s@0ms", &b, &us), -EINVAL);
	ck_assert_int_eq(sv_rate_parse("10TB/s", &b, &us), -EINVAL);
	ck_assert_int_eq(sv_rate_parse("99999999999999999999MB/s", &b, &us), -EOVERFLOW);
	ck_assert_int_eq(sv_rate_parse("4294967295GB/s@4294s", &b, &us), -EOVERFLOW);
	ck_assert_int_eq(sv_rate_parse("1MB/s@5000s", &b, &us), -EOVERFLOW);
}
END_TEST

START_TEST(vif_parse)
{
	struct sv_vif v;

	ck_assert_int_eq(sv_vif_parse(&v, "", err, sizeof(err)), 0);
	ck_assert(!v.mac_set);
	ck_assert_int_eq(v.devid, -1);
	ck_assert_str_eq(v.bridge, "");

	ck_assert_int_eq(sv_vif_parse(&v,
				      "mac=00:16:3E:74:3d:76,model=rtl8139,"
				      "bridge=xenbr0",
				      err, sizeof(err)),
			 0);
	ck_assert(v.mac_set);
	ck_assert_int_eq(v.mac[5], 0x76);
	ck_assert_str_eq(v.model, "rtl8139");
	ck_assert_str_eq(v.bridge, "xenbr0");

	ck_assert_int_eq(sv_vif_parse(&v,
				      "bridge=br1, ip=10.0.0.2 10.0.0.3, "
				      "vifname=web0,rate=1MB/s@20ms,mtu=9000,"
				      "type=vif,script=vif-route,backend=dd,"
				      "gatewaydev=eth0,devid=3,trusted",
				      err, sizeof(err)),
			 0);
	ck_assert_str_eq(v.ip, "10.0.0.2 10.0.0.3");
	ck_assert_str_eq(v.vifname, "web0");
	ck_assert_uint_eq(v.rate_bytes_per_interval, 20000);
	ck_assert_uint_eq(v.rate_interval_usecs, 20000);
	ck_assert_uint_eq(v.mtu, 9000);
	ck_assert_str_eq(v.type, "vif");
	ck_assert_str_eq(v.script, "vif-route");
	ck_assert_str_eq(v.backend, "dd");
	ck_assert_str_eq(v.gatewaydev, "eth0");
	ck_assert_int_eq(v.devid, 3);
}
END_TEST

/* A vif spec that must fail with a message containing want. */
static void vif_bad(const char *spec, const char *want)
{
	struct sv_vif v;
	int r = sv_vif_parse(&v, spec, err, sizeof(err));

	ck_assert_msg(r == -EINVAL, "spec '%s' gave %d", spec, r);
	ck_assert_msg(strstr(err, want), "spec '%s': message '%s' lacks '%s'", spec, err, want);
	ck_assert_msg(!strncmp(err, "vif spec '", 10), "message '%s'", err);
}

START_TEST(vif_errors)
{
	vif_bad("mac=zz", "invalid MAC address 'zz'");
	vif_bad("mac=01:00:5e:00:00:01", "multicast");
	vif_bad("bridge=averyveryverylongbridgename",
		"bridge 'averyveryverylongbridgename' too long");
	vif_bad("vifname=0123456789abcdef", "vifname '0123456789abcdef' too long");
	vif_bad("rate=fast", "invalid rate 'fast'");
	vif_bad("rate=99999999999GB/s", "too large");
	vif_bad("mtu=10", "invalid mtu '10'");
	vif_bad("mtu=70000", "invalid mtu");
	vif_bad("mtu=", "invalid mtu");
	vif_bad("type=pci", "unknown type 'pci'");
	vif_bad("colour=red", "unknown keyword 'colour'");
	vif_bad("bridge=br0,bogus", "unknown flag 'bogus'");
	vif_bad("accel=x", "'accel' is not supported");
	vif_bad("devid=-1", "invalid devid");
}
END_TEST

START_TEST(random_specs)
{
	static const char *const toks[] = {
		",",	 "=",		":",	    " ",       "/x",	  "xvda",
		"hdc",	 "raw",		"qcow2",    "r",       "w",	  "rw",
		"cdrom", "target=",	"vdev=",    "format=", "access=", "phy:",
		"tap:",	 "aio:",	"devtype=", "script=", "mac=",	  "00:16:3e:1:2:3",
		"rate=", "10Mb/s",	"@20ms",    "bridge=", "br0",	  "mtu=",
		"1500",	 "ip=",		"type=",    "vif",     "\t",	  "zz",
		"0x",	 "99999999999",
	};
	struct sv_disk d;
	struct sv_vif v;
	char spec[256];
	unsigned i, j, n, seed = 777;
	size_t len;
	int r;

	for (i = 0; i < 30000; i++) {
		len = 0;
		seed = seed * 1103515245 + 12345;
		n = 1 + (seed >> 16) % 12;
		for (j = 0; j < n; j++) {
			const char *t;

			seed = seed * 1103515245 + 12345;
			t = toks[(seed >> 16) % (sizeof(toks) / sizeof(toks[0]))];
			if (len + strlen(t) >= sizeof(spec))
				break;
			memcpy(spec + len, t, strlen(t));
			len += strlen(t);
		}
		spec[len] = '\0';
		r = sv_disk_parse(&d, spec, err, sizeof(err));
		ck_assert(r == 0 || r == -EINVAL);
		if (r)
			ck_assert_msg(!strncmp(err, "disk spec '", 11), "'%s'", err);
		else
			ck_assert_msg(d.devid >= 0 && *d.vdev, "'%s'", spec);
		r = sv_vif_parse(&v, spec, err, sizeof(err));
		ck_assert(r == 0 || r == -EINVAL);
		if (r)
			ck_assert_msg(!strncmp(err, "vif spec '", 10), "'%s'", err);
	}
}
END_TEST

static Suite *devspec_suite(void)
{
	Suite *s = suite_create("devspec");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, vdev_numbers);
	tcase_add_test(tc, vdev_invalid);
	tcase_add_test(tc, disk_positional);
	tcase_add_test(tc, disk_keywords);
	tcase_add_test(tc, disk_cdrom);
	tcase_add_test(tc, disk_deprecated_prefix);
	tcase_add_test(tc, disk_errors);
	tcase_add_test(tc, disk_hostile);
	tcase_add_test(tc, mac_parse);
	tcase_add_test(tc, rate_parse);
	tcase_add_test(tc, vif_parse);
	tcase_add_test(tc, vif_errors);
	tcase_add_test(tc, random_specs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(devspec_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
