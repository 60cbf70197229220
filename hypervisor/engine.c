// SPDX-License-Identifier: MIT
/* Which engines this host has, and the one a domain gets when it names none. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "hv.h"

const struct hv_engine *hv_engine_by_id(enum sv_engine id)
{
	if (!(hv_host.engines & SV_ENGINE_BIT(id)))
		return NULL;
	switch (id) {
	case SV_ENGINE_KVM:
		return &hv_kvm_engine;
	case SV_ENGINE_PROCESS:
		return &hv_proc_engine;
	default:
		return NULL;
	}
}

/*
 * Probe both engines.  want is the engine asked for at start-up ("kvm",
 * "process") or NULL for the default: KVM where /dev/kvm works, else the
 * process engine.  Returns 0, or -errno after saying why on stderr.
 */
int hv_engines_init(const char *want)
{
	char kvm_why[128] = "", proc_why[128] = "";

	if (want && strcmp(want, "kvm") && strcmp(want, "process")) {
		fprintf(stderr, "hypervisor: unknown engine '%s' (kvm, process)\n", want);
		return -EINVAL;
	}
	if (kvm_engine_probe(&hv_host, kvm_why, sizeof(kvm_why)) == 0)
		hv_host.engines |= SV_ENGINE_BIT(SV_ENGINE_KVM);
	if (proc_engine_probe(&hv_host, proc_why, sizeof(proc_why)) == 0)
		hv_host.engines |= SV_ENGINE_BIT(SV_ENGINE_PROCESS);
	if (want && !strcmp(want, "kvm")) {
		if (!(hv_host.engines & SV_ENGINE_BIT(SV_ENGINE_KVM))) {
			fprintf(stderr, "hypervisor: --engine=kvm: %s\n", kvm_why);
			return -ENODEV;
		}
		hv_host.engine = &hv_kvm_engine;
		snprintf(hv_host.engine_detail, sizeof(hv_host.engine_detail),
			 "asked for at start");
	} else if (want) {
		if (!(hv_host.engines & SV_ENGINE_BIT(SV_ENGINE_PROCESS))) {
			fprintf(stderr, "hypervisor: --engine=process: %s\n", proc_why);
			return -ENODEV;
		}
		hv_host.engine = &hv_proc_engine;
		snprintf(hv_host.engine_detail, sizeof(hv_host.engine_detail),
			 "asked for at start");
	} else if (hv_host.engines & SV_ENGINE_BIT(SV_ENGINE_KVM)) {
		hv_host.engine = &hv_kvm_engine;
		snprintf(hv_host.engine_detail, sizeof(hv_host.engine_detail), "/dev/kvm works");
	} else if (hv_host.engines & SV_ENGINE_BIT(SV_ENGINE_PROCESS)) {
		hv_host.engine = &hv_proc_engine;
		snprintf(hv_host.engine_detail, sizeof(hv_host.engine_detail), "%s", kvm_why);
	} else {
		fprintf(stderr, "hypervisor: no engine can run guests here: kvm: %s; process: %s\n",
			kvm_why, proc_why);
		return -ENODEV;
	}
	if (!(hv_host.engines & SV_ENGINE_BIT(SV_ENGINE_KVM)))
		hv_log("kvm engine unavailable: %s", kvm_why);
	if (!(hv_host.engines & SV_ENGINE_BIT(SV_ENGINE_PROCESS)))
		hv_log("process engine unavailable: %s", proc_why);
	hv_log("default engine: %s (%s)", hv_host.engine->name, hv_host.engine_detail);
	return 0;
}
