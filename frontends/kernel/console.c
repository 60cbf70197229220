// SPDX-License-Identifier: MIT
// Console output of the guest kernel through HYPERVISOR_console_io.
#include <svk/console.h>
#include <svk/hypercall.h>

/*
 * CONSOLEIO_write takes at most what the hypervisor copies in one go;
 * write in chunks so long buffers are not refused.  Errors are dropped:
 * there is nowhere else to report them.
 */
#define CONSOLE_CHUNK 1024

void console_write(const char *buf, size_t len)
{
	while (len) {
		size_t n = len < CONSOLE_CHUNK ? len : CONSOLE_CHUNK;

		(void)HYPERVISOR_console_io(CONSOLEIO_write, n, buf);
		buf += n;
		len -= n;
	}
}
