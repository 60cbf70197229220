/* SPDX-License-Identifier: MIT */
/* Linker script of the guest kernel (run through cpp): linked at VIRT_BASE, paddr = vaddr - VIRT_BASE. */
OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(_start)

/* 1 GiB: lower half, for both engines (svk/mm.h); the host test may link elsewhere. */
#ifdef SVK_VIRT_BASE
VIRT_BASE = SVK_VIRT_BASE;
#else
VIRT_BASE = 0x40000000;
#endif

PHDRS
{
	text PT_LOAD FLAGS(5);		/* R X */
	data PT_LOAD FLAGS(6);		/* R W */
	note PT_NOTE FLAGS(4);
}

SECTIONS
{
	. = VIRT_BASE;
	_text = .;
	.text : AT(ADDR(.text) - VIRT_BASE) {
		*(.text.head)
		*(.text .text.*)
	} :text
	_etext = .;

	.rodata : AT(ADDR(.rodata) - VIRT_BASE) {
		*(.rodata .rodata.*)
	} :text

	/* In the loaded image too, and named by the PT_NOTE header. */
	.note.Xen : AT(ADDR(.note.Xen) - VIRT_BASE) {
		*(.note.Xen)
	} :text :note

	. = ALIGN(4096);
	.data : AT(ADDR(.data) - VIRT_BASE) {
		*(.data .data.*)
	} :data

	.bss : AT(ADDR(.bss) - VIRT_BASE) {
		. = ALIGN(4096);
		__bss_start = .;
		*(.bss .bss.*)
		*(COMMON)
		. = ALIGN(4096);
		__bss_end = .;
	} :data
	_end = .;

	/DISCARD/ : {
		*(.comment)
		*(.eh_frame*)
		*(.note.GNU-stack)
		*(.note.gnu.*)
	}
}
