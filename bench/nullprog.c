// SPDX-License-Identifier: MIT
// nullprog: the smallest static program (no libc): exits 0 at once; procfloor times
// fork+execve+waitpid of it.
void _start(void);

void _start(void)
{
	__asm__ __volatile__("syscall" : : "a"(60), "D"(0) : "rcx", "r11", "memory"); /* exit(0) */
	for (;;)
		;
}
