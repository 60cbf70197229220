// SPDX-License-Identifier: MIT
/*
 * The domain table's read side, measured in one run both ways: dom0's
 * grant copies (each looks its domain up) from two threads on two
 * domains, with lookups under RCU and with lookups under the table's
 * lock as before.  The real hypervisor sources run against an engine that
 * does nothing, so only the core's cost is measured.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../hypervisor/hv.h"

struct hv_host hv_host = { .tsc_khz = 1000000 };
const char *hv_rundir;

static int nop_dom(struct hv_domain *d)
{
	return 0;
}
static void nop_dom_v(struct hv_domain *d)
{
}
static int nop_vcpu(struct hv_vcpu *v)
{
	return 0;
}
static void nop_vcpu_v(struct hv_vcpu *v)
{
}
static int nop_run(struct hv_vcpu *v, struct hv_exit *e)
{
	e->kind = HV_EXIT_NONE;
	return 0;
}
static uint64_t nop_tsc(struct hv_vcpu *v)
{
	return 1;
}
static void nop_page(struct hv_domain *d, uint8_t *p)
{
}
static int nop_l4(struct hv_domain *d, uint64_t g)
{
	return 0;
}
static int nop_pte(struct hv_vcpu *v, uint64_t va)
{
	return 0;
}
static bool nop_va(uint64_t va)
{
	return false;
}

static const struct hv_engine null_engine = {
	.name = "null",
	.id = SV_ENGINE_PROCESS,
	.va_reserved = nop_va,
	.domain_init = nop_dom,
	.domain_stop = nop_dom_v,
	.domain_fini = nop_dom_v,
	.vcpu_init = nop_vcpu,
	.vcpu_fini = nop_vcpu_v,
	.vcpu_load = nop_vcpu,
	.vcpu_run = nop_run,
	.vcpu_kick = nop_vcpu_v,
	.vcpu_unkick = nop_vcpu_v,
	.vcpu_tsc = nop_tsc,
	.hypercall_page = nop_page,
	.install_l4 = nop_l4,
	.pte_changed = nop_pte,
};

#define COPIES 2000000UL
#define THREADS 2

static uint32_t domids[THREADS];
static pthread_barrier_t start;

static void *copier(void *arg)
{
	uint32_t id = domids[(uintptr_t)arg];
	struct sv_gnt_copy_seg s = {
		.source = { .domid = id, .ref = 1, .flags = SV_GNT_COPY_GFN },
		.dest = { .domid = id, .ref = 2, .flags = SV_GNT_COPY_GFN },
		.len = 64,
	};

	pthread_barrier_wait(&start);
	for (unsigned long i = 0; i < COPIES; i++)
		if (gnttab_copy_one(NULL, 0, &s) != 0)
			abort();
	return NULL;
}

static double run(bool locked)
{
	pthread_t t[THREADS];
	struct timespec a, b;

	domain_table_locked_reads(locked);
	pthread_barrier_init(&start, NULL, THREADS + 1);
	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, copier, (void *)i);
	clock_gettime(CLOCK_MONOTONIC, &a);
	pthread_barrier_wait(&start);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	pthread_barrier_destroy(&start);
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

int main(void)
{
	char dir[] = "/tmp/sv-domtable.XXXXXX";
	double rcu[3], locked[3];
	int err;

	if (!mkdtemp(dir))
		return 1;
	hv_rundir = dir;
	hv_host.engine = &null_engine;
	hv_host.start_ns = hv_now_ns();
	if (domain_table_init())
		return 1;
	for (int i = 0; i < THREADS; i++) {
		struct sv_ctl_create req = { .kind = SV_DOM_PV, .max_vcpus = 1, .mem_kb = 4096 };
		snprintf(req.name, sizeof(req.name), "bench%d", i);
		struct hv_domain *d = domain_create(&req, &err);
		if (!d) {
			fprintf(stderr, "domtable: create: %s\n", strerror(-err));
			return 1;
		}
		domids[i] = d->domid;
		domain_put(d);
	}
	for (int r = 0; r < 3; r++) {
		locked[r] = run(true);
		rcu[r] = run(false);
	}
	qsort(rcu, 3, sizeof(rcu[0]), cmp);
	qsort(locked, 3, sizeof(locked[0]), cmp);
	printf("copies_per_s_rcu=%.0f\n", THREADS * COPIES / rcu[1]);
	printf("copies_per_s_locked=%.0f\n", THREADS * COPIES / locked[1]);
	domain_destroy_all();
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? 1 : 0;
}
