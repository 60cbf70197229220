// SPDX-License-Identifier: MIT
/* Check suite: XENMEM reservations from a hostile guest get Xen's answers and change nothing they
 * should not. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/grant_table.h>
#include "../../hypervisor/hv.h"
#include "../../hypervisor/mmu.h"
#include "hv_harness.h"

#define FRAMES 512	    /* RAM laid out: 2 MiB */
#define BOOT 256	    /* populated at create: 1 MiB */
#define VA_DATA 0x400000ULL /* 16 user pages, read-write, frames 0x10.. */
#define DATA_FRAME 0x10
#define VA_RO 0x410000ULL  /* read-only user page, frame 0x20 */
#define VA_END 0x411000ULL /* nothing mapped from here */
#define INVALID_M2P (~0ULL)

static struct hv_domain *d;
static struct hv_vcpu *v;
static void setup(void)
{
	d = hvh_setup(
	    &(struct hvh_spec){ .domid = 7, .vcpus = 1, .frames = FRAMES, .memop_boot = BOOT });

	/* Page tables: L4 0x1000, L3 0x2000, L2 0x3000, L1 0x4000. */
	hvh_pt(0x1000)[0] = 0x2000 | 7;
	hvh_pt(0x2000)[0] = 0x3000 | 7;
	hvh_pt(0x3000)[2] = 0x4000 | 7;
	for (int i = 0; i < 16; i++)
		hvh_pt(0x4000)[i] = ((DATA_FRAME + i) * 4096ULL) | 7;
	hvh_pt(0x4000)[16] = 0x20000 | 5; /* user, not writable */

	v = d->vcpus[0];
	v->cr3 = 0x1000;
}

static long hc(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return hvh_hypercall(v, nr, a0, a1, a2, 0);
}

/* Guest memory at a VA of the data pages. */
static void *guest(uint64_t va)
{
	return mem_gpa(&d->mem, DATA_FRAME * 4096ULL + (va - VA_DATA), 1);
}

/* The reservation at VA_DATA, its extent list at list_va. */
static long memop(unsigned cmd, uint64_t list_va, uint64_t nr, unsigned order, unsigned flags,
		  domid_t domid)
{
	struct xen_memory_reservation *r = guest(VA_DATA);

	memset(r, 0, sizeof(*r));
	set_xen_guest_handle(r->extent_start, (xen_pfn_t *)(uintptr_t)list_va);
	r->nr_extents = nr;
	r->extent_order = order;
	r->mem_flags = flags;
	r->domid = domid;
	return hc(__HYPERVISOR_memory_op, cmd, VA_DATA, 0);
}

/* Extent list entries, in the second data page. */
#define LIST (VA_DATA + 4096)
static void set_list(unsigned i, uint64_t frame)
{
	((xen_pfn_t *)guest(LIST))[i] = frame;
}

static uint64_t list_at(unsigned i)
{
	return ((xen_pfn_t *)guest(LIST))[i];
}

static uint64_t m2p(uint64_t mfn)
{
	return *(uint64_t *)mem_gpa(&d->mem, d->m2p_tab_gpa + mfn * 8, 8);
}

static uint64_t host_blocks(void)
{
	struct stat st;

	ck_assert_int_eq(fstat(d->mem.memfd, &st), 0);
	return (uint64_t)st.st_blocks;
}

static long reservation(unsigned cmd)
{
	domid_t *who = guest(VA_DATA + 2 * 4096);

	*who = DOMID_SELF;
	return hc(__HYPERVISOR_memory_op, cmd, VA_DATA + 2 * 4096, 0);
}

START_TEST(counts_start_at_boot_and_max)
{
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT);
	ck_assert_int_eq(reservation(XENMEM_maximum_reservation), FRAMES);
	ck_assert_uint_eq(m2p(BOOT - 1), BOOT - 1);
	ck_assert_uint_eq(m2p(BOOT), INVALID_M2P);
	ck_assert(mem_frame_present(&d->mem, (BOOT - 1) * 4096ULL));
	ck_assert(!mem_frame_present(&d->mem, BOOT * 4096ULL));
}
END_TEST

START_TEST(decrease_gives_memory_back)
{
	uint8_t *page = mem_gpa(&d->mem, 0x80 * 4096ULL, 4096);
	uint64_t before;

	memset(page, 0x5a, 4096);
	set_list(0, 0x80);
	memset(guest(VA_DATA), 0, 64); /* every page the call touches is there before we count */
	before = host_blocks();
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 1, 0, 0, DOMID_SELF), 1);
	ck_assert_uint_eq(host_blocks(), before - 8);
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT - 1);
	ck_assert_uint_eq(m2p(0x80), INVALID_M2P);
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(page[i], 0);
	/* Absent: not mapped (not the domain's frame: Xen's -EBUSY), not copied to. */
	ck_assert_int_eq(hc(__HYPERVISOR_update_va_mapping, VA_END, 0x80000 | 7, 0), -XEN_EBUSY);
	ck_assert_int_eq(hc(__HYPERVISOR_update_va_mapping, VA_DATA, 0x80000 | 7, 0), -XEN_EBUSY);
	ck_assert_uint_eq(hvh_pt(0x4000)[0], (DATA_FRAME * 4096ULL) | 7 | 0x100 /* Xen's _PAGE_GLOBAL */);
}
END_TEST

START_TEST(decrease_twice_stops_at_the_second)
{
	set_list(0, 0x80);
	set_list(1, 0x80);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 2, 0, 0, DOMID_SELF), 1);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 1, 0, 0, DOMID_SELF), 0);
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT - 1);
}
END_TEST

START_TEST(decrease_refuses_frames_not_the_domains)
{
	static const uint64_t bad[] = {
		0x7f000,		 /* past RAM */
		SV_PRIV_GPA >> 12,	 /* shared_info */
		(SV_PRIV_GPA >> 12) + 5, /* the hypervisor's private pages */
		BOOT + 3,		 /* RAM, but never populated */
		1ULL << 52,
		~0ULL, /* nonsense */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_list(0, bad[i]);
		ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 1, 0, 0, DOMID_SELF), 0);
	}
	/* A bad extent in the middle ends the batch there. */
	set_list(0, 0x80);
	set_list(1, 0x7f000);
	set_list(2, 0x81);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 3, 0, 0, DOMID_SELF), 1);
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT - 1);
	ck_assert(mem_frame_present(&d->mem, 0x81 * 4096ULL));
}
END_TEST

START_TEST(extent_order_is_checked)
{
	set_list(0, 0x80);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 1, 10, 0, DOMID_SELF), 0);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 1, 63, 0, DOMID_SELF), 0);
	ck_assert_int_eq(memop(XENMEM_populate_physmap, LIST, 1, 31, 0, DOMID_SELF), 0);
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT);
	/* An extent that runs past the populated frames is refused whole. */
	set_list(0, BOOT - 2);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 1, 2, 0, DOMID_SELF), 0);
	ck_assert(mem_frame_present(&d->mem, (BOOT - 2) * 4096ULL));
	/* A good one of order 2 goes as one. */
	set_list(0, 0x80);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 1, 2, 0, DOMID_SELF), 1);
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT - 4);
	ck_assert_uint_eq(m2p(0x83), INVALID_M2P);
	ck_assert(mem_frame_present(&d->mem, 0x84 * 4096ULL));
}
END_TEST

START_TEST(bad_handles_do_nothing)
{
	/* The extent list runs off the mapped pages: the batch stops there. */
	uint64_t last = VA_END - 8;
	*(xen_pfn_t *)mem_gpa(&d->mem, 0x21000 - 8, 8) = 0x80;
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, last, 2, 0, 0, DOMID_SELF), 1);
	/* No list, an unmapped one, one that wraps, too many extents. */
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, 0, 1, 0, 0, DOMID_SELF), 0);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, VA_END, 1, 0, 0, DOMID_SELF), 0);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, ~7ULL, 2, 0, 0, DOMID_SELF), 0);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 1ULL << 40, 0, 0, DOMID_SELF), 0);
	/* The reservation itself unreadable. */
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, VA_END, 0), 0);
	ck_assert_int_eq(hc(__HYPERVISOR_memory_op, XENMEM_populate_physmap, 0, 0), 0);
	/* populate cannot write the frame back: nothing populated. */
	*(xen_pfn_t *)mem_gpa(&d->mem, 0x20000, 8) = BOOT;
	ck_assert_int_eq(memop(XENMEM_populate_physmap, VA_RO, 1, 0, 0, DOMID_SELF), 0);
	ck_assert(!mem_frame_present(&d->mem, BOOT * 4096ULL));
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT - 1);
}
END_TEST

START_TEST(populate_writes_back_the_machine_frame)
{
	uint8_t *page = mem_gpa(&d->mem, (BOOT + 5) * 4096ULL, 4096);

	/* What a guest wrote through a stale mapping while the frame was out is gone. */
	memset(page, 0x77, 4096);
	set_list(0, BOOT + 5);
	ck_assert_int_eq(memop(XENMEM_populate_physmap, LIST, 1, 0, 0, DOMID_SELF), 1);
	ck_assert_uint_eq(list_at(0), BOOT + 5); /* machine frame == guest frame below 3 GiB */
	ck_assert_uint_eq(m2p(BOOT + 5), BOOT + 5);
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT + 1);
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(page[i], 0);
	ck_assert_int_eq(hc(__HYPERVISOR_update_va_mapping, VA_DATA, ((BOOT + 5) * 4096ULL) | 7, 0),
			 0);
	/* Present already, past RAM, into the private pages: refused. */
	set_list(0, BOOT + 5);
	ck_assert_int_eq(memop(XENMEM_populate_physmap, LIST, 1, 0, 0, DOMID_SELF), 0);
	set_list(0, 10);
	ck_assert_int_eq(memop(XENMEM_populate_physmap, LIST, 1, 0, 0, DOMID_SELF), 0);
	set_list(0, FRAMES);
	ck_assert_int_eq(memop(XENMEM_populate_physmap, LIST, 1, 0, 0, DOMID_SELF), 0);
	set_list(0, SV_PRIV_GPA >> 12);
	ck_assert_int_eq(memop(XENMEM_populate_physmap, LIST, 1, 0, 0, DOMID_SELF), 0);
	ck_assert_int_eq(
	    memop(XENMEM_populate_physmap, LIST, 1, 0, XENMEMF_populate_on_demand, DOMID_SELF), 0);
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT + 1);
}
END_TEST

START_TEST(no_more_than_the_maximum)
{
	ck_assert_int_eq(memop_set_max(d, (BOOT + 2) * 4), 0);
	ck_assert_int_eq(reservation(XENMEM_maximum_reservation), BOOT + 2);
	for (unsigned i = 0; i < 4; i++)
		set_list(i, BOOT + i);
	ck_assert_int_eq(memop(XENMEM_populate_physmap, LIST, 4, 0, 0, DOMID_SELF), 2);
	ck_assert(!mem_frame_present(&d->mem, (BOOT + 2) * 4096ULL));
	ck_assert_int_eq(memop(XENMEM_increase_reservation, LIST, 1, 0, 0, DOMID_SELF), 0);
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT + 2);
	/* A maximum below what it holds: it keeps it and may only shrink. */
	ck_assert_int_eq(memop_set_max(d, 4 * 100), 0);
	set_list(0, 0x80);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 1, 0, 0, DOMID_SELF), 1);
	set_list(0, 0x80);
	ck_assert_int_eq(memop(XENMEM_populate_physmap, LIST, 1, 0, 0, DOMID_SELF), 0);
	ck_assert_int_eq(memop_set_max(d, 1ULL << 40), -EINVAL);
	ck_assert_int_eq(reservation(XENMEM_maximum_reservation), 100);
}
END_TEST

START_TEST(increase_picks_absent_frames)
{
	ck_assert_int_eq(memop(XENMEM_increase_reservation, LIST, 2, 0, 0, DOMID_SELF), 2);
	ck_assert_uint_eq(list_at(0), BOOT);
	ck_assert_uint_eq(list_at(1), BOOT + 1);
	ck_assert_uint_eq(m2p(BOOT + 1), BOOT + 1);
	/* Without a list the frames still come (Xen allows it). */
	ck_assert_int_eq(memop(XENMEM_increase_reservation, 0, 1, 0, 0, DOMID_SELF), 1);
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT + 3);
	/* Order 3 extents are aligned runs. */
	ck_assert_int_eq(memop(XENMEM_increase_reservation, LIST, 1, 3, 0, DOMID_SELF), 1);
	ck_assert_uint_eq(list_at(0), BOOT + 8);
}
END_TEST

START_TEST(other_domains_are_refused)
{
	set_list(0, 0x80);
	/* Xen: a domain that exists (Domain-0) is XSM's -EPERM; one that does not, nothing done. */
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 1, 0, 0, 3), 0);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation | (1u << 6), LIST, 2, 0, 0, 3), 1);
	ck_assert_int_eq(memop(XENMEM_populate_physmap, LIST, 1, 0, 0, 0), -XEN_EPERM);
	ck_assert_int_eq(memop(XENMEM_increase_reservation, LIST, 1, 0, 0, DOMID_IO), 0);
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 1, 0, 0, 7), 1);
}
END_TEST

START_TEST(continuation_start_is_honoured)
{
	set_list(0, 0x80);
	set_list(1, 0x81);
	/* Start at extent 1: only 0x81 goes, and the count includes the skipped one. */
	ck_assert_int_eq(memop(XENMEM_decrease_reservation | (1u << 6), LIST, 2, 0, 0, DOMID_SELF),
			 2);
	ck_assert(mem_frame_present(&d->mem, 0x80 * 4096ULL));
	ck_assert(!mem_frame_present(&d->mem, 0x81 * 4096ULL));
	/* A start at or past the end does nothing and says so. */
	ck_assert_int_eq(memop(XENMEM_decrease_reservation | (5u << 6), LIST, 2, 0, 0, DOMID_SELF),
			 5);
	ck_assert_int_eq(reservation(XENMEM_current_reservation), BOOT - 1);
}
END_TEST

START_TEST(frames_given_back_cannot_be_granted)
{
	struct gnttab_setup_table *st = guest(VA_DATA + 3 * 4096);
	grant_entry_v1_t *e;
	uint32_t h;
	uint64_t off;

	ck_assert_int_eq(gnttab_init(d), 0);
	st->dom = DOMID_SELF;
	st->nr_frames = 1;
	set_xen_guest_handle(st->frame_list, (xen_pfn_t *)(uintptr_t)(VA_DATA + 3 * 4096 + 64));
	ck_assert_int_eq(
	    hc(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, VA_DATA + 3 * 4096, 1), 0);
	e = mem_gpa(&d->mem, pv_gnttab_gpa(d), 4096);
	e[1] = (grant_entry_v1_t){ .flags = GTF_permit_access, .domid = 0, .frame = BOOT + 1 };
	e[2] = (grant_entry_v1_t){ .flags = GTF_permit_access, .domid = 0, .frame = 0x80 };
	ck_assert_int_eq(gnttab_map_dom0(d, 1, true, NULL, &h, &off), GNTST_bad_page);
	set_list(0, 0x80);
	ck_assert_int_eq(memop(XENMEM_decrease_reservation, LIST, 1, 0, 0, DOMID_SELF), 1);
	ck_assert_int_eq(gnttab_map_dom0(d, 2, true, NULL, &h, &off), GNTST_bad_page);
	gnttab_fini(d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("memop");
	TCase *tc = tcase_create("reservation");

	tcase_add_checked_fixture(tc, setup, hvh_teardown);
	tcase_add_test(tc, counts_start_at_boot_and_max);
	tcase_add_test(tc, decrease_gives_memory_back);
	tcase_add_test(tc, decrease_twice_stops_at_the_second);
	tcase_add_test(tc, decrease_refuses_frames_not_the_domains);
	tcase_add_test(tc, extent_order_is_checked);
	tcase_add_test(tc, bad_handles_do_nothing);
	tcase_add_test(tc, populate_writes_back_the_machine_frame);
	tcase_add_test(tc, no_more_than_the_maximum);
	tcase_add_test(tc, increase_picks_absent_frames);
	tcase_add_test(tc, other_domains_are_refused);
	tcase_add_test(tc, continuation_start_is_honoured);
	tcase_add_test(tc, frames_given_back_cannot_be_granted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
