// SPDX-License-Identifier: MIT
/* Check suite for dom0/config.c: xl.cfg syntax, defaults, overrides, checks. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../dom0/config.h"

static char err[1024];

/* Parses text that must be valid into a fresh cfg. */
static void parse_ok(struct sv_config *cfg, const char *text)
{
	int r;

	sv_config_init(cfg);
	r = sv_config_parse(cfg, text, strlen(text), "hello.cfg", err, sizeof(err));
	ck_assert_msg(r == 0, "parse failed (%d): %s\n--\n%s", r, err, text);
}

/* Parses text that must fail with exactly the message want. */
static void parse_bad(const char *text, const char *want)
{
	struct sv_config cfg;
	int r;

	sv_config_init(&cfg);
	r = sv_config_parse(&cfg, text, strlen(text), "hello.cfg", err, sizeof(err));
	ck_assert_msg(r == -EINVAL, "gave %d for:\n%s", r, text);
	ck_assert_msg(!strcmp(err, want), "message\n  '%s'\nwanted\n  '%s'", err, want);
	sv_config_free(&cfg);
}

static const char hello_cfg[] = "# A PV guest.\n"
				"name = \"hello\"\n"
				"type = 'pv'\n"
				"memory = 256\n"
				"maxmem = 0x200   # hex is fine\n"
				"vcpus = 2; maxvcpus = 4\n"
				"kernel = \"/boot/hello.elf\"\n"
				"ramdisk = \"/boot/initrd\"\n"
				"root = \"/dev/xvda1 ro\"\n"
				"extra = \"console=hvc0\"\n"
				"disk = [ 'phy:/dev/vg/hello,xvda,w',\n"
				"         '/img/data.img,raw,xvdb,ro', # trailing comma next\n"
				"       ]\n"
				"vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0', '' ]\n"
				"on_poweroff = \"preserve\"\n"
				"on_crash = \"coredump-restart\"\n"
				"uuid = \"3D9A2F2E-1b2c-4d5e-8f90-a1b2c3d4e5f6\"\n";

START_TEST(full_file)
{
	struct sv_config cfg;

	parse_ok(&cfg, hello_cfg);
	ck_assert_str_eq(cfg.name, "hello");
	ck_assert_int_eq(cfg.type, SV_GUEST_PV);
	ck_assert_uint_eq(cfg.memory_mb, 256);
	ck_assert_uint_eq(cfg.maxmem_mb, 512);
	ck_assert_uint_eq(cfg.vcpus, 2);
	ck_assert_uint_eq(cfg.maxvcpus, 4);
	ck_assert_str_eq(cfg.kernel, "/boot/hello.elf");
	ck_assert_str_eq(cfg.ramdisk, "/boot/initrd");
	ck_assert_str_eq(cfg.cmdline, "root=/dev/xvda1 ro console=hvc0");
	ck_assert_uint_eq(cfg.nr_disks, 2);
	ck_assert_str_eq(cfg.disks[0].target, "/dev/vg/hello");
	ck_assert_int_eq(cfg.disks[0].devid, 51712);
	ck_assert(cfg.disks[1].readonly);
	ck_assert_uint_eq(cfg.nr_vifs, 2);
	ck_assert(cfg.vifs[0].mac_set);
	ck_assert_str_eq(cfg.vifs[0].bridge, "xenbr0");
	ck_assert(!cfg.vifs[1].mac_set);
	ck_assert_int_eq(cfg.on_poweroff, SV_ACTION_PRESERVE);
	ck_assert_int_eq(cfg.on_reboot, SV_ACTION_RESTART);
	ck_assert_int_eq(cfg.on_crash, SV_ACTION_COREDUMP_RESTART);
	ck_assert_str_eq(cfg.uuid, "3d9a2f2e-1b2c-4d5e-8f90-a1b2c3d4e5f6");
	ck_assert_str_eq(cfg.source, "hello.cfg");
	ck_assert_int_eq(sv_config_validate(&cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.warnings, "");
	sv_config_free(&cfg);
}
END_TEST

START_TEST(defaults)
{
	struct sv_config cfg;

	parse_ok(&cfg, "name='a'\nkernel='/k'"); /* no final newline */
	ck_assert_int_eq(cfg.type, SV_GUEST_PV);
	ck_assert_uint_eq(cfg.memory_mb, 32);
	ck_assert_uint_eq(cfg.maxmem_mb, 32);
	ck_assert_uint_eq(cfg.vcpus, 1);
	ck_assert_uint_eq(cfg.maxvcpus, 1);
	ck_assert_uint_eq(cfg.nr_disks, 0);
	ck_assert_uint_eq(cfg.nr_vifs, 0);
	ck_assert_int_eq(cfg.on_poweroff, SV_ACTION_DESTROY);
	ck_assert_int_eq(cfg.on_reboot, SV_ACTION_RESTART);
	ck_assert_int_eq(cfg.on_crash, SV_ACTION_DESTROY);
	ck_assert_str_eq(cfg.uuid, "");
	ck_assert_str_eq(cfg.cmdline, "");
	ck_assert_int_eq(sv_config_validate(&cfg, err, sizeof(err)), 0);
	sv_config_free(&cfg);

	/* maxmem and maxvcpus follow memory and vcpus. */
	parse_ok(&cfg, "memory=300\nvcpus=3\n");
	ck_assert_uint_eq(cfg.maxmem_mb, 300);
	ck_assert_uint_eq(cfg.maxvcpus, 3);
	sv_config_free(&cfg);
}
END_TEST

START_TEST(types)
{
	struct sv_config cfg;

	parse_ok(&cfg, "type=\"hvm\"");
	ck_assert_int_eq(cfg.type, SV_GUEST_HVM);
	sv_config_free(&cfg);
	parse_ok(&cfg, "type=\"pvh\"");
	ck_assert_int_eq(cfg.type, SV_GUEST_PVH);
	sv_config_free(&cfg);
	parse_ok(&cfg, "builder=\"hvm\"");
	ck_assert_int_eq(cfg.type, SV_GUEST_HVM);
	sv_config_free(&cfg);
	parse_ok(&cfg, "builder=\"generic\"");
	ck_assert_int_eq(cfg.type, SV_GUEST_PV);
	sv_config_free(&cfg);
	parse_ok(&cfg, "builder=\"hvm\"\ntype=\"pvh\""); /* type wins */
	ck_assert_int_eq(cfg.type, SV_GUEST_PVH);
	sv_config_free(&cfg);
	ck_assert_str_eq(sv_guest_type_name(SV_GUEST_PVH), "pvh");
	ck_assert_str_eq(sv_action_name(SV_ACTION_RENAME_RESTART), "rename-restart");
}
END_TEST

START_TEST(engine_values)
{
	struct sv_config cfg;

	parse_ok(&cfg, "name='e'\nkernel='/k'\nengine = \"kvm\"\n");
	ck_assert_uint_eq(cfg.engine, SV_ENGINE_KVM);
	ck_assert_str_eq(cfg.warnings, "");
	ck_assert_int_eq(sv_config_validate(&cfg, err, sizeof(err)), 0);
	sv_config_free(&cfg);
	parse_ok(&cfg, "engine = 'process'\n");
	ck_assert_uint_eq(cfg.engine, SV_ENGINE_PROCESS);
	sv_config_free(&cfg);
	/* A bare word works too, so `xl create f.cfg engine=process` needs no quotes. */
	parse_ok(&cfg, "engine = process\n");
	ck_assert_uint_eq(cfg.engine, SV_ENGINE_PROCESS);
	sv_config_free(&cfg);
	parse_ok(&cfg, "engine = 'kvm'\nengine = 'process'\n"); /* last one wins */
	ck_assert_uint_eq(cfg.engine, SV_ENGINE_PROCESS);
	sv_config_free(&cfg);
	ck_assert_str_eq(sv_engine_name(SV_ENGINE_KVM), "kvm");
	ck_assert_str_eq(sv_engine_name(SV_ENGINE_PROCESS), "process");
	ck_assert_str_eq(sv_engine_name(SV_ENGINE_DEFAULT), "default");
	ck_assert_str_eq(sv_engine_name(77), "unknown");
}
END_TEST

START_TEST(engine_default)
{
	struct sv_config cfg;

	sv_config_init(&cfg);
	ck_assert_uint_eq(cfg.engine, SV_ENGINE_DEFAULT);
	sv_config_free(&cfg);
	parse_ok(&cfg, "name='a'\nkernel='/k'\n");
	ck_assert_uint_eq(cfg.engine, 0);
	sv_config_free(&cfg);
}
END_TEST

START_TEST(engine_errors)
{
	parse_bad("name='x'\n\nengine = 'xen'\n",
		  "hello.cfg:3: engine: expected \"kvm\" or \"process\", got 'xen'");
	parse_bad("engine = 'KVM'\n",
		  "hello.cfg:1: engine: expected \"kvm\" or \"process\", got 'KVM'");
	parse_bad("engine = ''\n", "hello.cfg:1: engine: expected \"kvm\" or \"process\", got ''");
	parse_bad("engine = 1\n", "hello.cfg:1: engine: expected \"kvm\" or \"process\", got '1'");
	parse_bad("engine = ['kvm']\n",
		  "hello.cfg:1: engine: expected \"kvm\" or \"process\", got a list");
}
END_TEST

/* tsc_mode: xl.cfg(5)'s names, any case (libxl's from_string); xl's deprecated numbers. */
START_TEST(tsc_mode_values)
{
	static const struct {
		const char *line;
		unsigned mode;
		bool warns;
	} ok[] = {
		{ "tsc_mode = \"default\"", SV_TSC_MODE_DEFAULT, false },
		{ "tsc_mode = 'always_emulate'", SV_TSC_MODE_ALWAYS_EMULATE, false },
		{ "tsc_mode = \"native\"", SV_TSC_MODE_NATIVE, false },
		{ "tsc_mode = \"Native\"", SV_TSC_MODE_NATIVE, false },
		{ "tsc_mode = native", SV_TSC_MODE_NATIVE, false },
		{ "tsc_mode = \"native_paravirt\"", SV_TSC_MODE_NATIVE_PARAVIRT, false },
		{ "tsc_mode = 0", SV_TSC_MODE_DEFAULT, true },
		{ "tsc_mode = 1", SV_TSC_MODE_ALWAYS_EMULATE, true },
		{ "tsc_mode = 2", SV_TSC_MODE_NATIVE, true },
		{ "tsc_mode = \"2\"", SV_TSC_MODE_NATIVE, true },
		{ "tsc_mode = 0x1", SV_TSC_MODE_ALWAYS_EMULATE, true },
		{ "tsc_mode = 3", SV_TSC_MODE_NATIVE_PARAVIRT, true },
	};
	struct sv_config cfg;
	char text[256];

	parse_ok(&cfg, "name='t'\nkernel='/k'\n");
	ck_assert_uint_eq(cfg.tsc_mode, SV_TSC_MODE_DEFAULT); /* libxl's default */
	sv_config_free(&cfg);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "name='t'\nkernel='/k'\n%s\n", ok[i].line);
		parse_ok(&cfg, text);
		ck_assert_msg(cfg.tsc_mode == ok[i].mode, "%s gave %u", ok[i].line, cfg.tsc_mode);
		ck_assert_msg(!!strstr(cfg.warnings, "as an integer is deprecated") == ok[i].warns,
			      "%s: warnings '%s'", ok[i].line, cfg.warnings);
		if (ok[i].mode == SV_TSC_MODE_NATIVE_PARAVIRT) {
			/* Parsed, then refused as libxl refuses it at create. */
			ck_assert_int_eq(sv_config_validate(&cfg, err, sizeof(err)), -EINVAL);
			ck_assert_str_eq(err,
					 "hello.cfg: TSC Mode native_paravirt (a.k.a PVRDTSCP) "
					 "has been removed");
		} else {
			ck_assert_int_eq(sv_config_validate(&cfg, err, sizeof(err)), 0);
		}
		sv_config_free(&cfg);
	}
	/* xl's suggestion names the mode. */
	parse_ok(&cfg, "tsc_mode = 1\n");
	ck_assert_str_eq(
	    cfg.warnings,
	    "hello.cfg:1: warning: specifying \"tsc_mode\" as an integer is deprecated. "
	    "Please use the named parameter variant. e.g. tsc_mode=\"always_emulate\"\n");
	sv_config_free(&cfg);
	ck_assert_str_eq(sv_tsc_mode_name(SV_TSC_MODE_NATIVE), "native");
	ck_assert_str_eq(sv_tsc_mode_name(SV_TSC_MODE_ALWAYS_EMULATE), "always_emulate");
	ck_assert_str_eq(sv_tsc_mode_name(9), "unknown");
	/* The last one wins; an override changes it; a bad override changes nothing. */
	parse_ok(&cfg, "name='t'\nkernel='/k'\ntsc_mode='native'\ntsc_mode='always_emulate'\n");
	ck_assert_uint_eq(cfg.tsc_mode, SV_TSC_MODE_ALWAYS_EMULATE);
	ck_assert_int_eq(sv_config_override(&cfg, "tsc_mode=native", err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.tsc_mode, SV_TSC_MODE_NATIVE);
	ck_assert_int_eq(sv_config_override(&cfg, "tsc_mode=\"emulate\"", err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "command line: tsc_mode: invalid value 'emulate' (expected "
			      "\"default\", \"always_emulate\" or \"native\")");
	ck_assert_uint_eq(cfg.tsc_mode, SV_TSC_MODE_NATIVE);
	sv_config_free(&cfg);
}
END_TEST

START_TEST(tsc_mode_errors)
{
	parse_bad("name='x'\ntsc_mode = 'always'\n",
		  "hello.cfg:2: tsc_mode: invalid value 'always' (expected \"default\", "
		  "\"always_emulate\" or \"native\")");
	parse_bad("tsc_mode = ''\n", "hello.cfg:1: tsc_mode: invalid value '' (expected "
				     "\"default\", \"always_emulate\" or \"native\")");
	parse_bad("tsc_mode = 4\n", "hello.cfg:1: tsc_mode: invalid value 4 (the numeric form is "
				    "0..3)");
	parse_bad("tsc_mode = -1\n", "hello.cfg:1: tsc_mode: invalid value -1 (the numeric form "
				     "is 0..3)");
	parse_bad("tsc_mode = 99999999999999999999\n",
		  "hello.cfg:1: tsc_mode: invalid value 99999999999999999999 (the numeric form is "
		  "0..3)");
	parse_bad("tsc_mode = '1x'\n", "hello.cfg:1: tsc_mode: invalid value '1x' (expected "
				       "\"default\", \"always_emulate\" or \"native\")");
	parse_bad("tsc_mode = ['native']\n", "hello.cfg:1: tsc_mode: expected \"default\", "
					     "\"always_emulate\" or \"native\", got a list");
}
END_TEST

START_TEST(engine_overrides)
{
	struct sv_config cfg;

	parse_ok(&cfg, "name='o'\nkernel='/k'\nengine='kvm'\n");
	ck_assert_int_eq(sv_config_override(&cfg, "engine=process", err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.engine, SV_ENGINE_PROCESS);
	ck_assert_int_eq(sv_config_override(&cfg, "engine=\"kvm\"", err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.engine, SV_ENGINE_KVM);
	/* A bad override is reported and leaves the engine as it was. */
	ck_assert_int_eq(sv_config_override(&cfg, "engine=bochs", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "command line: engine: expected \"kvm\" or \"process\", got 'bochs'");
	ck_assert_uint_eq(cfg.engine, SV_ENGINE_KVM);
	ck_assert_int_eq(sv_config_validate(&cfg, err, sizeof(err)), 0);

	/* The process engine runs PV guests only. */
	ck_assert_int_eq(sv_config_override(&cfg, "type='hvm'", err, sizeof(err)), 0);
	ck_assert_int_eq(sv_config_validate(&cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(sv_config_override(&cfg, "engine='process'", err, sizeof(err)), 0);
	ck_assert_int_eq(sv_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "hello.cfg: engine \"process\" runs only type = \"pv\" guests, "
			      "not \"hvm\"");
	sv_config_free(&cfg);
}
END_TEST

START_TEST(cmdline_rules)
{
	struct sv_config cfg;

	parse_ok(&cfg, "cmdline='console=hvc0 quiet'\nroot='/dev/xvda'\nextra='x'");
	ck_assert_str_eq(cfg.cmdline, "console=hvc0 quiet");
	ck_assert_str_eq(cfg.warnings, "hello.cfg:1: warning: ignoring root= and extra= "
				       "in favour of cmdline=\n");
	ck_assert_int_eq(sv_config_override(&cfg, "extra='y'", err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.cmdline, "console=hvc0 quiet");
	ck_assert_ptr_nonnull(strstr(cfg.warnings, "=\nhello.cfg:1: warning: ignoring root="));
	sv_config_free(&cfg);
	parse_ok(&cfg, "root='/dev/xvda1'");
	ck_assert_str_eq(cfg.cmdline, "root=/dev/xvda1");
	sv_config_free(&cfg);
	parse_ok(&cfg, "extra='console=hvc0'");
	ck_assert_str_eq(cfg.cmdline, "console=hvc0");
	sv_config_free(&cfg);
}
END_TEST

START_TEST(syntax_variants)
{
	struct sv_config cfg;

	/* Semicolons, escapes, last one wins, +=, nested lists, CRLF. */
	parse_ok(&cfg, "name=\"a\"; name=\"b\\\"q\\x41\\101\\t\"\r\n"
		       "extra = 'one'\n"
		       "extra += ' two'\n"
		       "disk = ['/a,,xvda']\n"
		       "disk += [ '/b,,xvdb', ]\n"
		       "cpus = [ [\"1\", \"2\"], [] ]   # ignored, nested is fine\n"
		       "vif=[]\n"
		       "\n\n;;\n"
		       "memory = '512'\n");
	ck_assert_str_eq(cfg.name, "b\"qAA\t");
	ck_assert_str_eq(cfg.cmdline, "one two");
	ck_assert_uint_eq(cfg.nr_disks, 2);
	ck_assert_str_eq(cfg.disks[1].vdev, "xvdb");
	ck_assert_uint_eq(cfg.nr_vifs, 0);
	ck_assert_uint_eq(cfg.memory_mb, 512);
	ck_assert_ptr_nonnull(strstr(cfg.warnings, "hello.cfg:6: warning: ignoring 'cpus'"));
	sv_config_free(&cfg);

	/* Numbers may be bare or quoted; strings may be numbers. */
	parse_ok(&cfg, "name = 42\nvcpus=010\n");
	ck_assert_str_eq(cfg.name, "42");
	ck_assert_uint_eq(cfg.vcpus, 8);
	sv_config_free(&cfg);

	/* cpus= as one CPU list is kept as written (xl create checks it); absent: "". */
	parse_ok(&cfg, "name = 'a'\ncpus = \"0-3,^1\"\n");
	ck_assert_str_eq(cfg.cpus, "0-3,^1");
	ck_assert_str_eq(cfg.warnings, "");
	sv_config_free(&cfg);
	parse_ok(&cfg, "name = 'a'\ncpus = 1\n");
	ck_assert_str_eq(cfg.cpus, "1");
	sv_config_free(&cfg);
	parse_ok(&cfg, "name = 'a'\n");
	ck_assert_str_eq(cfg.cpus, "");
	sv_config_free(&cfg);
}
END_TEST

START_TEST(syntax_errors)
{
	parse_bad("name = \"abc\n", "hello.cfg:1: syntax error: unterminated string");
	parse_bad("name='a'\nkernel = 'abc", "hello.cfg:2: syntax error: unterminated string");
	parse_bad("\n\nname \"x\"\n", "hello.cfg:3: syntax error: expected '=' after 'name'");
	parse_bad("name =\n", "hello.cfg:1: syntax error: missing value");
	parse_bad("name = 'a' 'b'\n",
		  "hello.cfg:1: syntax error: unexpected text after the value of 'name'");
	parse_bad("disk = [ 'a'\n", "hello.cfg:2: syntax error: missing ']'");
	parse_bad("disk = [", "hello.cfg:1: syntax error: missing ']'");
	parse_bad("disk = [ 'a',\n\n", "hello.cfg:3: syntax error: missing ']'");
	parse_bad("disk = [ 'a' 'b' ]\n", "hello.cfg:1: syntax error: expected ',' or ']' in list");
	parse_bad("= 3\n", "hello.cfg:1: syntax error: expected 'key = value'");
	parse_bad("9lives = 3\n", "hello.cfg:1: syntax error: expected 'key = value'");
	parse_bad(
	    "x = (1, 2)\n",
	    "hello.cfg:1: syntax error: unexpected character '(' (Python syntax is not supported)");
	parse_bad("name = 'a\\qb'\n",
		  "hello.cfg:1: syntax error: invalid escape sequence in string");
	parse_bad("name = 'a\\x00'\n", "hello.cfg:1: syntax error: NUL character in string");
	parse_bad("name = 'a\\x4'\n",
		  "hello.cfg:1: syntax error: invalid escape sequence in string");
	parse_bad("x = [[[[[[[[[[]]]]]]]]]]\n",
		  "hello.cfg:1: syntax error: lists nested too deeply");
	parse_bad("x = \x01\n", "hello.cfg:1: syntax error: unexpected byte 0x01");
}
END_TEST

START_TEST(value_errors)
{
	parse_bad("name='x'\n\n\n\n\n\nmemory = \"lots\"\n",
		  "hello.cfg:7: memory: expected a number, got 'lots'");
	parse_bad("memory = lots\n", "hello.cfg:1: memory: expected a number, got 'lots'");
	parse_bad("memory = -5\n", "hello.cfg:1: memory: expected a number, got '-5'");
	parse_bad("memory = [1]\n", "hello.cfg:1: memory: expected a number, got a list");
	parse_bad(
	    "memory = 99999999999999999999999\n",
	    "hello.cfg:1: memory: 99999999999999999999999 is too large (at most 17592186044415)");
	parse_bad("memory = 5\nmemory += 5\n", "hello.cfg:2: memory: cannot use += with numbers");
	parse_bad("vcpus = 5000\n", "hello.cfg:1: vcpus: 5000 is too large (at most 4096)");
	parse_bad("kernel = /boot/k\n",
		  "hello.cfg:1: kernel: strings must be quoted, as in kernel = \"/boot/k\"");
	parse_bad("kernel = ['/boot/k']\n", "hello.cfg:1: kernel: expected a string, got a list");
	parse_bad("extra = 'a'\nextra += ['b']\n",
		  "hello.cfg:2: extra: cannot add a list to a string or a string to a list");
	parse_bad("name = '0123456789012345678901234567890123456789012345678901234567890123'\n",
		  "hello.cfg:1: name: too long (at most 63 characters)");
	parse_bad("type = 'xen'\n",
		  "hello.cfg:1: type: unknown guest type 'xen' (expected pv, pvh or hvm)");
	parse_bad("builder = 'linux'\n",
		  "hello.cfg:1: builder: unknown builder 'linux' (expected generic or hvm)");
	parse_bad("\non_crash = 'explode'\n",
		  "hello.cfg:2: on_crash: unknown action 'explode' (expected destroy, restart, "
		  "preserve, rename-restart, coredump-destroy, coredump-restart or soft-reset)");
	parse_bad(
	    "uuid = 'not-a-uuid'\n",
	    "hello.cfg:1: uuid: 'not-a-uuid' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
	parse_bad("disk = '/a,,xvda'\n",
		  "hello.cfg:1: disk: expected a list, as in disk = [ '...' ]");
	parse_bad("disk = [ '/a,,xvda',\n  'foo' ]\n",
		  "hello.cfg:2: disk spec 'foo': no vdev specified");
	parse_bad("disk = [\n\n  '/dev/sdb,,xvda,q' ]\n",
		  "hello.cfg:3: disk spec '/dev/sdb,,xvda,q': unknown access mode 'q'");
	parse_bad("disk = [ ['/a,,xvda'] ]\n",
		  "hello.cfg:1: disk: expected a list of strings, got a nested list");
	parse_bad("vif = [ 'mac=zz' ]\n",
		  "hello.cfg:1: vif spec 'mac=zz': invalid MAC address 'zz'");
}
END_TEST

START_TEST(failed_parse_keeps_cfg)
{
	struct sv_config cfg;
	const char bad[] = "memory = 'lots'\n";

	parse_ok(&cfg, "name='keep'\nmemory=64\ndisk=['/a,,xvda']\n");
	ck_assert_int_eq(sv_config_parse(&cfg, bad, strlen(bad), "x.cfg", err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(cfg.name, "keep");
	ck_assert_uint_eq(cfg.memory_mb, 64);
	ck_assert_uint_eq(cfg.nr_disks, 1);
	ck_assert_str_eq(cfg.source, "hello.cfg");
	/* The bad setting was dropped: a later override still works. */
	ck_assert_int_eq(sv_config_override(&cfg, "vcpus=2", err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.memory_mb, 64);
	sv_config_free(&cfg);
}
END_TEST

START_TEST(overrides)
{
	struct sv_config cfg;

	parse_ok(&cfg, hello_cfg);
	ck_assert_int_eq(sv_config_override(&cfg, "memory=512", err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.memory_mb, 512);
	ck_assert_uint_eq(cfg.maxmem_mb, 512);
	ck_assert_int_eq(sv_config_override(&cfg, "extra=\"quiet\"", err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.cmdline, "root=/dev/xvda1 ro quiet");
	ck_assert_int_eq(sv_config_override(&cfg, "vif=[]", err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.nr_vifs, 0);
	ck_assert_uint_eq(cfg.nr_disks, 2);

	ck_assert_int_eq(sv_config_override(&cfg, "memory=lots", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "command line: memory: expected a number, got 'lots'");
	ck_assert_uint_eq(cfg.memory_mb, 512);
	ck_assert_int_eq(sv_config_override(&cfg, "memory", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "command line: syntax error: expected '=' after 'memory'");
	ck_assert_int_eq(sv_config_override(&cfg, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(sv_config_override(&cfg, "colour='blue'", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(cfg.warnings, "command line: warning: ignoring 'colour'"));
	ck_assert_int_eq(sv_config_validate(&cfg, err, sizeof(err)), 0);
	sv_config_free(&cfg);

	/* Overrides without a file. */
	sv_config_init(&cfg);
	ck_assert_int_eq(sv_config_override(&cfg, "name='x'", err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.name, "x");
	sv_config_free(&cfg);
}
END_TEST

static char warned[4][256];
static int nr_warned;

static void collect(void *opaque, const char *msg)
{
	ck_assert_ptr_eq(opaque, warned);
	if (nr_warned < 4)
		snprintf(warned[nr_warned++], sizeof(warned[0]), "%s", msg);
}

START_TEST(warn_callback)
{
	struct sv_config cfg;
	const char text[] = "name='w'\nbootloader='pygrub'\nvnc=1\n";

	sv_config_init(&cfg);
	cfg.warn = collect;
	cfg.warn_opaque = warned;
	nr_warned = 0;
	ck_assert_int_eq(sv_config_parse(&cfg, text, strlen(text), "w.cfg", err, sizeof(err)), 0);
	ck_assert_int_eq(nr_warned, 2);
	ck_assert_str_eq(warned[0],
			 "w.cfg:2: warning: ignoring 'bootloader': not a key Splitvisor knows");
	ck_assert_str_eq(warned[1], "w.cfg:3: warning: ignoring 'vnc': not a key Splitvisor knows");
	ck_assert_str_eq(cfg.warnings, "");
	sv_config_free(&cfg);
}
END_TEST

/* Validates a parsed config that must fail with exactly want. */
static void invalid(const char *text, const char *want)
{
	struct sv_config cfg;

	parse_ok(&cfg, text);
	ck_assert_int_eq(sv_config_validate(&cfg, err, sizeof(err)), -EINVAL);
	ck_assert_msg(!strcmp(err, want), "message\n  '%s'\nwanted\n  '%s'", err, want);
	sv_config_free(&cfg);
}

START_TEST(validation)
{
	invalid("kernel='/k'", "hello.cfg: no name given (name = \"...\" is mandatory)");
	invalid("name='a b'\nkernel='/k'",
		"hello.cfg: name 'a b' may only contain letters, digits and _.+:@-");
	invalid("name='-x'\nkernel='/k'", "hello.cfg: name '-x' may not start with '-'");
	invalid("name='123'\nkernel='/k'",
		"hello.cfg: name '123' may not be all digits (it would read as a domain id)");
	invalid("name='Domain-0'\nkernel='/k'",
		"hello.cfg: name 'Domain-0' Domain-0 is the control domain's name");
	invalid("name='a'\ntype='hvm'",
		"hello.cfg: no kernel given (kernel = \"...\" is mandatory: "
		"Splitvisor boots every guest type directly)");
	invalid("name='a'\nkernel='/k'\nmemory=8",
		"hello.cfg: memory = 8 is too small (at least 16 MB)");
	invalid("name='a'\nkernel='/k'\nmemory=64\nmaxmem=32",
		"hello.cfg: maxmem = 32 is less than memory = 64");
	invalid("name='a'\nkernel='/k'\nmemory=2000000",
		"hello.cfg: memory and maxmem may be at most 1048576 MB");
	invalid("name='a'\nkernel='/k'\nvcpus=0", "hello.cfg: vcpus = 0 is out of range (1..128)");
	invalid("name='a'\nkernel='/k'\nvcpus=129",
		"hello.cfg: vcpus = 129 is out of range (1..128)");
	invalid("name='a'\nkernel='/k'\nvcpus=4\nmaxvcpus=2",
		"hello.cfg: maxvcpus = 2 is out of range (vcpus..128, here 4..128)");
	invalid("name='a'\nkernel='/k'\ndisk=['/a,,xvda','/b,,51712']",
		"hello.cfg: disks 'xvda' and '51712' are the same virtual device");
	invalid("name='a'\nkernel='/k'\nvif=['devid=1','devid=1']",
		"hello.cfg: two vifs have devid 1");
}
END_TEST

START_TEST(sched_keys)
{
	struct sv_config cfg;

	/* Xen's credit defaults, then the keys of xl.cfg(5). */
	parse_ok(&cfg, "name='a'\nkernel='/k'\n");
	ck_assert_uint_eq(cfg.cpu_weight, 256);
	ck_assert_uint_eq(cfg.cap, 0);
	sv_config_free(&cfg);
	parse_ok(&cfg, "name='a'\nkernel='/k'\nvcpus=2\ncpu_weight=512\ncap=200\n");
	ck_assert_uint_eq(cfg.cpu_weight, 512);
	ck_assert_uint_eq(cfg.cap, 200);
	ck_assert_int_eq(sv_config_validate(&cfg, err, sizeof(err)), 0);
	ck_assert_msg(!strstr(cfg.warnings, "cpu_weight") && !strstr(cfg.warnings, "cap"),
		      "warned: %s", cfg.warnings);
	sv_config_free(&cfg);
	/* The cap follows maxvcpus, not the vCPUs online at start. */
	parse_ok(&cfg, "name='a'\nkernel='/k'\nvcpus=1\nmaxvcpus=4\ncap=400\n");
	ck_assert_int_eq(sv_config_validate(&cfg, err, sizeof(err)), 0);
	sv_config_free(&cfg);
	invalid("name='a'\nkernel='/k'\ncpu_weight=0",
		"hello.cfg: cpu_weight = 0 is out of range (1..65535)");
	invalid("name='a'\nkernel='/k'\ncap=101",
		"hello.cfg: cap = 101 is out of range (0..100: 100 per vCPU, maxvcpus = 1)");
	invalid("name='a'\nkernel='/k'\nvcpus=2\ncap=201",
		"hello.cfg: cap = 201 is out of range (0..200: 100 per vCPU, maxvcpus = 2)");
	parse_bad("cpu_weight = 65536\n",
		  "hello.cfg:1: cpu_weight: 65536 is too large (at most 65535)");
	parse_bad("cap = -1\n", "hello.cfg:1: cap: expected a number, got '-1'");
	parse_bad("cap = 12801\n", "hello.cfg:1: cap: 12801 is too large (at most 12800)");
}
END_TEST

START_TEST(files)
{
	struct sv_config cfg;
	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, hello_cfg, strlen(hello_cfg)), (ssize_t)strlen(hello_cfg));
	close(fd);
	sv_config_init(&cfg);
	ck_assert_int_eq(sv_config_parse_file(&cfg, path, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.name, "hello");
	ck_assert_str_eq(cfg.source, path);
	sv_config_free(&cfg);
	unlink(path);

	sv_config_init(&cfg);
	ck_assert_int_eq(sv_config_parse_file(&cfg, path, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "cannot open: No such file or directory"));
	ck_assert_int_eq(sv_config_parse_file(&cfg, "/tmp", err, sizeof(err)), -EISDIR);
	ck_assert_str_eq(err, "/tmp: is a directory");
	/* Not a regular file, but readable: fine. */
	ck_assert_int_eq(sv_config_parse_file(&cfg, "/dev/null", err, sizeof(err)), 0);
	/* An endless device is cut off at the size limit. */
	ck_assert_int_eq(sv_config_parse_file(&cfg, "/dev/zero", err, sizeof(err)), -EFBIG);
	ck_assert_str_eq(err, "/dev/zero: too large (at most 1048576 bytes)");
	/* A file of exactly the limit is read; one byte more is not. */
	{
		char big_path[] = "/tmp/test_config_big_XXXXXX";
		char *junk = malloc(SV_CONFIG_MAX_FILE + 1);
		int bfd = mkstemp(big_path);

		ck_assert_int_ge(bfd, 0);
		memset(junk, '\n', SV_CONFIG_MAX_FILE + 1);
		memcpy(junk, "name='big'", 10);
		ck_assert_int_eq(write(bfd, junk, SV_CONFIG_MAX_FILE), SV_CONFIG_MAX_FILE);
		ck_assert_int_eq(sv_config_parse_file(&cfg, big_path, err, sizeof(err)), 0);
		ck_assert_str_eq(cfg.name, "big");
		ck_assert_int_eq(write(bfd, junk, 1), 1);
		ck_assert_int_eq(sv_config_parse_file(&cfg, big_path, err, sizeof(err)), -EFBIG);
		close(bfd);
		unlink(big_path);
		free(junk);
	}
	sv_config_free(&cfg);
}
END_TEST

START_TEST(hostile)
{
	struct sv_config cfg;
	static char big[200000];
	size_t i;

	/* Embedded NUL bytes, binary junk, huge lists, tiny err buffers. */
	sv_config_init(&cfg);
	ck_assert_int_eq(sv_config_parse(&cfg, "name='a'\0x", 10, "h", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(sv_config_parse(&cfg, "name='a\0'", 9, "h", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(sv_config_parse(&cfg, NULL, 0, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(sv_config_parse(&cfg, "memory='x'", 10, "h", err, 5), -EINVAL);
	ck_assert_int_eq(strlen(err), 4);
	ck_assert_int_eq(sv_config_parse(&cfg, "memory='x'", 10, "h", NULL, 0), -EINVAL);
	for (i = 0; i < 256; i++) {
		char c = (char)i, text[8] = "x = ";

		text[4] = c;
		sv_config_parse(&cfg, text, 5, "h", err, sizeof(err));
	}
	/* A list of 10000 items is refused, not a crash. */
	strcpy(big, "x = [");
	for (i = 0; i < 10000; i++)
		memcpy(big + 5 + 2 * i, "1,", 3);
	strcat(big, "]");
	ck_assert_int_eq(sv_config_parse(&cfg, big, strlen(big), "h", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "h:1: syntax error: list too long");
	/* 300 disks are too many. */
	strcpy(big, "disk = [");
	for (i = 0; i < 300; i++)
		sprintf(big + strlen(big), "'/a,,xvd%c%c',", 'a' + (int)(i / 26),
			'a' + (int)(i % 26));
	strcat(big, "]");
	ck_assert_int_eq(sv_config_parse(&cfg, big, strlen(big), "h", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "h:1: disk: too many devices (at most 256)");
	/* Deep nesting stops at the limit without recursion trouble. */
	memset(big, '[', 100000);
	memcpy(big, "x = ", 4);
	ck_assert_int_eq(sv_config_parse(&cfg, big, 100000, "h", err, sizeof(err)), -EINVAL);
	sv_config_free(&cfg);
}
END_TEST

START_TEST(random_token_soup)
{
	static const char *const toks[] = {
		"name",
		"memory",
		"disk",
		"vif",
		"extra",
		"root",
		"cmdline",
		"type",
		"uuid",
		"x",
		" = ",
		"+=",
		"=",
		"'a'",
		"\"b\\n\"",
		"'",
		"\"",
		"[",
		"]",
		",",
		";",
		"\n",
		"# c\n",
		"12",
		"0x10",
		"-1",
		"'/a,,xvda'",
		"'hvm'",
		"'mac=00:16:3e:0:0:1'",
		"\\",
		"\r",
		" ",
		"\t",
		"(",
		"\x80",
		"'\\x4",
		"engine",
		"'process'",
		"kvm",
	};
	struct sv_config cfg;
	char text[512];
	unsigned i, j, seed = 4242, n;
	size_t len;
	int r;

	/* Random token sequences: always a verdict, a message on failure. */
	for (i = 0; i < 20000; i++) {
		len = 0;
		seed = seed * 1103515245 + 12345;
		n = 1 + (seed >> 16) % 24;
		for (j = 0; j < n; j++) {
			const char *t;

			seed = seed * 1103515245 + 12345;
			t = toks[(seed >> 16) % (sizeof(toks) / sizeof(toks[0]))];
			if (len + strlen(t) >= sizeof(text))
				break;
			memcpy(text + len, t, strlen(t));
			len += strlen(t);
		}
		sv_config_init(&cfg);
		r = sv_config_parse(&cfg, text, len, "s", err, sizeof(err));
		ck_assert(r == 0 || r == -EINVAL);
		if (r)
			ck_assert_msg(!strncmp(err, "s:", 2), "'%s'", err);
		else
			sv_config_validate(&cfg, err, sizeof(err));
		sv_config_free(&cfg);
	}
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, full_file);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, types);
	tcase_add_test(tc, engine_values);
	tcase_add_test(tc, engine_default);
	tcase_add_test(tc, engine_errors);
	tcase_add_test(tc, tsc_mode_values);
	tcase_add_test(tc, tsc_mode_errors);
	tcase_add_test(tc, engine_overrides);
	tcase_add_test(tc, cmdline_rules);
	tcase_add_test(tc, syntax_variants);
	tcase_add_test(tc, syntax_errors);
	tcase_add_test(tc, value_errors);
	tcase_add_test(tc, failed_parse_keeps_cfg);
	tcase_add_test(tc, overrides);
	tcase_add_test(tc, warn_callback);
	tcase_add_test(tc, validation);
	tcase_add_test(tc, sched_keys);
	tcase_add_test(tc, files);
	tcase_add_test(tc, hostile);
	tcase_add_test(tc, random_token_soup);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
