/* SPDX-License-Identifier: MIT */
/*
 * The save file of xl save and xl restore (docs/save-restore.md has the
 * layout in prose).  Every integer is little-endian; the file is:
 *
 *   struct sv_save_header                  (64 bytes)
 *   the config text                        (header.config_len bytes, then zeros to 8)
 *   records, each struct sv_save_rec       (16 bytes) then its body of
 *                                          rec.length bytes, then zeros to 8
 *
 * in this order: DOMAIN, then any of PAGE_DATA, VCPU, M2P, SHARED_INFO
 * (PAGE_DATA records in ascending gfn order, every populated or absent
 * frame of the domain's RAM once), then END.
 */
#ifndef SV_XL_SAVEFILE_H
#define SV_XL_SAVEFILE_H

#include <stdint.h>
#include <stdio.h>
#include <xen/xen.h>

#define SV_SAVE_MAGIC "SplitvisorSave\n" /* 16 bytes with its NUL */
#define SV_SAVE_VERSION 1u

struct sv_save_header {
	char magic[16];	     /* SV_SAVE_MAGIC */
	uint32_t version;    /* SV_SAVE_VERSION */
	uint32_t header_len; /* sizeof(struct sv_save_header) */
	uint32_t config_len; /* the config text that follows, at most 1 MiB */
	uint32_t flags;	     /* 0 */
	uint64_t reserved[4];
};

enum sv_save_rec_type {
	SV_REC_END = 0,
	SV_REC_DOMAIN = 1,	/* struct sv_save_domain */
	SV_REC_PAGE_DATA = 2,	/* struct sv_save_pages, count u64 entries, then the pages */
	SV_REC_VCPU = 3,	/* struct sv_save_vcpu */
	SV_REC_M2P = 4,		/* struct sv_save_m2p, then count u64 entries */
	SV_REC_SHARED_INFO = 5, /* struct sv_save_shinfo */
};

struct sv_save_rec {
	uint32_t type;	 /* sv_save_rec_type */
	uint32_t flags;	 /* 0 */
	uint64_t length; /* of the body, without the padding to 8 */
};

/* The domain as the hypervisor had it (SV_CTL_DOMAIN_INFO, _SAVE_INFO). */
struct sv_save_domain {
	char name[64];
	uint8_t handle[16];
	uint32_t max_vcpus;
	uint32_t engine;   /* sv_engine */
	uint32_t tsc_mode; /* SV_TSC_MODE_* */
	uint32_t flags;	   /* SV_SAVE_F_LOW_VA */
	uint64_t ram_kb;   /* RAM laid out: gfns 0 .. ram_kb / 4 - 1 */
	uint64_t cur_pages;
	uint64_t max_pages;
	uint64_t hcall_page_gpa;
	uint32_t suspend_vcpu;	/* the vCPU whose rdx names start_info */
	uint32_t gnttab_frames; /* grant-table frames it had set up (at most 32) */
	uint64_t start_info_gfn; /* its rdx at the suspend */
};

/*
 * Frames: entry i is gfn (bits 0..39) | (type >> 28) << 60, type an
 * SV_PFINFO_* (XTAB: absent, no data; L1TAB..L4TAB, LPINTAB: the frame's
 * table type and pin).  After the entries, 4096 bytes per frame that is
 * not XTAB, in entry order.
 */
#define SV_SAVE_PAGES_MAX 1024
#define SV_SAVE_GFN_MASK ((1ULL << 40) - 1)
struct sv_save_pages {
	uint64_t count; /* 1..SV_SAVE_PAGES_MAX */
};

struct sv_save_vcpu {
	uint32_t vcpu;
	uint32_t online; /* 0, 1 */
	struct vcpu_guest_context ctx;
};

struct sv_save_m2p {
	uint64_t first; /* mfn */
	uint64_t count; /* 1..SV_M2P_MAX */
};

struct sv_save_shinfo {
	uint64_t max_pfn, pfn_to_mfn_frame_list_list, p2m_cr3, p2m_vaddr, p2m_generation;
};

#endif
