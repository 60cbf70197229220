// SPDX-License-Identifier: MIT
// memfd-floor: the host's own cost of mapping one page of a memfd and unmapping it again,
// the floor bench/pvabi.sh divides the guest's mmu_update map+unmap by.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	int fd = memfd_create("memfd-floor", MFD_CLOEXEC);
	uint64_t t0, t1;

	if (n <= 0 || fd < 0 || ftruncate(fd, 4096) < 0) {
		fprintf(stderr, "memfd-floor: usage: memfd-floor [N] (and a memfd)\n");
		return 1;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED || munmap(p, 4096) < 0) {
			perror("memfd-floor");
			return 1;
		}
	}
	t1 = now_ns();
	printf("mmap_munmap_ns=%llu\n", (unsigned long long)((t1 - t0) / (uint64_t)n));
	return 0;
}
