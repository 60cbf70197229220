// SPDX-License-Identifier: MIT
/* The KVM engine's host: /dev/kvm, the capabilities we rely on, PVM or hardware, TSC rate, CPUID.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kvm.h"

struct kvm_host_state kvm_host = { .kvm_fd = -1 };

#define XEN_CPUID_BASE 0x40000000u

static bool module_loaded(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return stat(path, &st) == 0;
}

/* Which KVM this is decides what `xl info` says and what speed to expect. */
static void detect_kind(struct hv_host *h)
{
	if (module_loaded("kvm_pvm")) {
		h->kind = SV_KVM_PVM;
		snprintf(h->kind_detail, sizeof(h->kind_detail),
			 "kvm_pvm (no VT-x/AMD-V, shadow paging)");
	} else if (module_loaded("kvm_intel")) {
		h->kind = SV_KVM_HARDWARE;
		snprintf(h->kind_detail, sizeof(h->kind_detail), "kvm_intel (VT-x)");
	} else if (module_loaded("kvm_amd")) {
		h->kind = SV_KVM_HARDWARE;
		snprintf(h->kind_detail, sizeof(h->kind_detail), "kvm_amd (AMD-V)");
	} else {
		h->kind = SV_KVM_HARDWARE;
		snprintf(h->kind_detail, sizeof(h->kind_detail), "kvm (vendor module unknown)");
	}
}

/* The TSC rate guests see: read from a throwaway vCPU. */
static int probe_tsc_khz(struct hv_host *h)
{
	int vm, vcpu, khz, ret = 0;

	vm = ioctl(kvm_host.kvm_fd, KVM_CREATE_VM, 0);
	if (vm < 0)
		return -errno;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		ret = -errno;
		goto out_vm;
	}
	khz = ioctl(vcpu, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0)
		ret = khz < 0 ? -errno : -EINVAL;
	else
		h->tsc_khz = (uint64_t)khz;
	close(vcpu);
out_vm:
	close(vm);
	return ret;
}

/*
 * CPUID for every guest: what KVM supports, the hypervisor bit, and Xen's
 * leaves at 0x40000000 ("XenVMMXenVMM", version, hypercall MSR) in place of
 * KVM's own paravirt leaves, so Xen-aware guests find Xen.
 */
static int build_cpuid(struct hv_host *h)
{
	unsigned n = 256, i, out = 0;
	struct kvm_cpuid2 *sup, *c;

	sup = calloc(1, sizeof(*sup) + n * sizeof(sup->entries[0]));
	if (!sup)
		return -ENOMEM;
	sup->nent = n;
	if (ioctl(kvm_host.kvm_fd, KVM_GET_SUPPORTED_CPUID, sup) < 0) {
		int e = -errno;
		free(sup);
		return e;
	}
	c = calloc(1, sizeof(*c) + (sup->nent + 3) * sizeof(c->entries[0]));
	if (!c) {
		free(sup);
		return -ENOMEM;
	}
	for (i = 0; i < sup->nent; i++) {
		struct kvm_cpuid_entry2 e = sup->entries[i];

		if (e.function >= XEN_CPUID_BASE && e.function < XEN_CPUID_BASE + 0x100)
			continue;
		if (e.function == 1)
			e.ecx |= 1u << 31; /* running under a hypervisor */
		c->entries[out++] = e;
	}
	struct kvm_cpuid_entry2 *x = &c->entries[out];
	memset(x, 0, 3 * sizeof(*x));
	x[0].function = XEN_CPUID_BASE;
	x[0].eax = XEN_CPUID_BASE + 2;
	memcpy(&x[0].ebx, "XenV", 4);
	memcpy(&x[0].ecx, "MMXe", 4);
	memcpy(&x[0].edx, "nVMM", 4);
	x[1].function = XEN_CPUID_BASE + 1;
	x[1].eax = (4u << 16) | 17u; /* the Xen version whose ABI we keep */
	x[2].function = XEN_CPUID_BASE + 2;
	x[2].eax = 1;	       /* hypercall pages */
	x[2].ebx = 0x40000000; /* MSR that installs them */
	c->nent = out + 3;
	free(sup);
	kvm_host.cpuid = c;
	return 0;
}

/*
 * Can this host run guests on KVM?  On success the engine's host state is
 * set and h says which KVM it is; otherwise why says what is missing and
 * nothing is left open.
 */
int kvm_engine_probe(struct hv_host *h, char *why, size_t len)
{
	int ret, v;

	kvm_host.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_host.kvm_fd < 0) {
		ret = -errno;
		snprintf(why, len, "no /dev/kvm: %s", strerror(errno));
		return ret;
	}
	v = ioctl(kvm_host.kvm_fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		snprintf(why, len, "/dev/kvm speaks API version %d, need %d", v, KVM_API_VERSION);
		ret = -ENOTSUP;
		goto out_close;
	}
	static const struct {
		int cap;
		const char *name;
	} need[] = {
		{ KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (ioctl(kvm_host.kvm_fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0) {
			snprintf(why, len, "/dev/kvm lacks %s", need[i].name);
			ret = -ENOTSUP;
			goto out_close;
		}
	}
	kvm_host.vcpu_mmap_size = ioctl(kvm_host.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm_host.vcpu_mmap_size <= 0) {
		snprintf(why, len, "KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
		ret = -EINVAL;
		goto out_close;
	}
	detect_kind(h);
	ret = probe_tsc_khz(h);
	if (ret) {
		snprintf(why, len, "cannot read the guest TSC rate: %s", strerror(-ret));
		goto out_close;
	}
	ret = build_cpuid(h);
	if (ret) {
		snprintf(why, len, "KVM_GET_SUPPORTED_CPUID failed: %s", strerror(-ret));
		goto out_close;
	}
	hv_log("kvm: %s, guest TSC %llu kHz", h->kind_detail, (unsigned long long)h->tsc_khz);
	return 0;

out_close:
	close(kvm_host.kvm_fd);
	kvm_host.kvm_fd = -1;
	h->kind = SV_KVM_NONE;
	return ret;
}
