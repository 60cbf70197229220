/* SPDX-License-Identifier: MIT */
/* The low window's credentials: a uid of its own and CAP_SYS_RAWIO alone (include/sv/procabi.h). */
#ifndef SV_RUNNER_LOW_WINDOW_H
#define SV_RUNNER_LOW_WINDOW_H

#include <stdint.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <asm/unistd.h>

#define SV_PR_GET_SECUREBITS 27
#define SV_PR_SET_SECUREBITS 28
#define SV_PR_CAPBSET_DROP 24
#define SV_PR_CAP_AMBIENT 47
#define SV_PR_CAP_AMBIENT_CLEAR_ALL 4
#define SV_LOW_WINDOW_SECUREBITS                                                                   \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |                           \
	 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |  \
	 SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

/* A raw system call with up to three arguments: -errno on failure. */
typedef long (*sv_sys3_fn)(long nr, long a, long b, long c);

/*
 * Become uid and gid id with CAP_SYS_RAWIO and no other capability, for
 * good.  Securebits first (they need CAP_SETPCAP, as does emptying the
 * bounding set), then the ids (CAP_SETUID, CAP_SETGID; NO_SETUID_FIXUP
 * keeps the kernel from touching the capabilities meanwhile), then the
 * capabilities, and a check of the result.  0, or -errno with *step naming
 * what failed.  Shared by sv-runner (freestanding) and its unit test.
 */
static inline long sv_low_window_creds(sv_sys3_fn sys, uint32_t id, const char **step)
{
	struct __user_cap_header_struct ch = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct cd[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	long r;

	*step = "lock the securebits for the low window";
	if ((r = sys(__NR_prctl, SV_PR_SET_SECUREBITS, SV_LOW_WINDOW_SECUREBITS, 0)) < 0)
		return r;
	*step = "empty the capability bounding set";
	for (long cap = 0; cap < 64; cap++) {
		if (cap == CAP_SYS_RAWIO)
			continue;
		r = sys(__NR_prctl, SV_PR_CAPBSET_DROP, cap, 0);
		if (r < 0 && r != -22 /* EINVAL: past the kernel's last capability */)
			return r;
	}
	*step = "clear the ambient capabilities";
	if ((r = sys(__NR_prctl, SV_PR_CAP_AMBIENT, SV_PR_CAP_AMBIENT_CLEAR_ALL, 0)) < 0)
		return r;
	*step = "drop the supplementary groups";
	if ((r = sys(__NR_setgroups, 0, 0, 0)) < 0)
		return r;
	*step = "take the low window's gid";
	if ((r = sys(__NR_setresgid, id, id, id)) < 0)
		return r;
	*step = "take the low window's uid";
	if ((r = sys(__NR_setresuid, id, id, id)) < 0)
		return r;
	*step = "keep CAP_SYS_RAWIO alone";
	cd[0].effective = cd[0].permitted = 1u << CAP_SYS_RAWIO;
	if ((r = sys(__NR_capset, (long)&ch, (long)cd, 0)) < 0)
		return r;
	*step = "check the low window's credentials";
	cd[0].effective = cd[0].permitted = 0;
	if ((r = sys(__NR_capget, (long)&ch, (long)cd, 0)) < 0)
		return r;
	if (cd[0].permitted != 1u << CAP_SYS_RAWIO || cd[0].effective != cd[0].permitted ||
	    cd[0].inheritable || cd[1].permitted || cd[1].effective || cd[1].inheritable ||
	    sys(__NR_prctl, SV_PR_GET_SECUREBITS, 0, 0) != SV_LOW_WINDOW_SECUREBITS ||
	    sys(__NR_getuid, 0, 0, 0) != (long)id || sys(__NR_getgid, 0, 0, 0) != (long)id)
		return -1; /* EPERM */
	return 0;
}

#endif
