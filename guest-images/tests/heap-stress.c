// SPDX-License-Identifier: GPL-2.0
/*
 * heap-stress - every online CPU allocates from every dma-buf heap at once.
 *
 * For each heap in /dev/dma_heap, one thread per online CPU, each pinned to its CPU
 * (sched_setaffinity), runs ROUNDS rounds in lock step (a barrier between phases):
 *   1. allocate a buffer (4 KiB, 64 KiB, 1 MiB in turn, capped by the heap's budget), mmap it,
 *      check it is zeroed, fill it with a pattern of its own (CPU, round) between
 *      DMA_BUF_IOCTL_SYNC start/end;
 *   2. map the buffer of the thread on the next CPU through its fd and check that CPU's pattern
 *      (the write went through another CPU's TLB and caches), unmap it;
 *   3. unmap and free its own buffer (the munmap of a memory shared by all threads is a TLB
 *      shootdown that every other CPU must see).
 * Every phase checks the thread still runs on its CPU. The budget comes from the board: a
 * heap backed by a CMA area gets at most area / (2 x CPUs) per thread (the kernel's CMA debugfs
 * count), so a small vendor pool is stressed as hard as it can hold.
 *
 * Output: TAP 13, one test point per heap ("heap <name>: N CPUs x R rounds"), diagnostics for
 * every failure. Exit status 0 when every check passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include "dmabuf.h"
#include "rmem.h"
#include "tap.h"

#define HEAP_DIR "/dev/dma_heap"
#define CMA_DEBUGFS "/sys/kernel/debug/cma"
#define DEFAULT_CMA_HEAP "default_cma_region"
#define ROUNDS 12
#define MAX_CPUS 64
#define MAX_HEAPS 32

static const uint64_t sizes[] = { 4 << 10, 64 << 10, 1 << 20 };

struct worker {
	pthread_t thread;
	int cpu;	/* the CPU this thread is pinned to */
	int index;	/* its place in the ring */
	int fd;		/* its buffer of the current round, -1 between rounds */
	uint64_t len;	/* that buffer's size */
	int failed;
	char why[256];	/* the first failure */
};

static struct {
	int heap_fd;
	uint64_t budget;	/* per thread */
	int n;
	struct worker w[MAX_CPUS];
	pthread_barrier_t barrier;
} run;

static void fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failed++)
		return;
	va_start(ap, fmt);
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
}

static uint64_t pattern(int index, int round, uint64_t word)
{
	return 0x9e3779b97f4a7c15ULL * (uint64_t)(index + 1) ^ (uint64_t)round << 48 ^ word;
}

static void check_cpu(struct worker *w, const char *phase, int round)
{
	int now = sched_getcpu();

	if (now != w->cpu)
		fail(w, "round %d %s: running on CPU %d, pinned to CPU %d", round, phase, now, w->cpu);
}

static uint64_t round_size(int round)
{
	uint64_t s = sizes[round % (int)(sizeof(sizes) / sizeof(sizes[0]))];
	long page = sysconf(_SC_PAGESIZE);

	if (s > run.budget)
		s = run.budget / page * page;
	return s;
}

/* phase 1: allocate, check zeroed, fill */
static void produce(struct worker *w, int round)
{
	struct dma_heap_allocation_data data = {
		.len = round_size(round),
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	uint64_t *p, i, words = data.len / 8;

	w->fd = -1;
	if (ioctl(run.heap_fd, DMA_HEAP_IOCTL_ALLOC, &data) < 0) {
		fail(w, "round %d: allocating %llu bytes: %s", round, (unsigned long long)data.len,
		     strerror(errno));
		return;
	}
	w->fd = (int)data.fd;
	w->len = data.len;
	p = mmap(NULL, w->len, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
	if (p == MAP_FAILED) {
		fail(w, "round %d: mmap of %llu bytes: %s", round, (unsigned long long)w->len,
		     strerror(errno));
		return;
	}
	buf_sync(w->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	for (i = 0; i < words; i++) {
		if (p[i]) {
			fail(w, "round %d: new %llu-byte buffer not zeroed at offset %llu (0x%llx)", round,
			     (unsigned long long)w->len, (unsigned long long)(i * 8),
			     (unsigned long long)p[i]);
			break;
		}
	}
	for (i = 0; i < words; i++)
		p[i] = pattern(w->index, round, i);
	buf_sync(w->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	munmap(p, w->len);
	check_cpu(w, "allocate", round);
}

/* phase 2: read the next CPU's buffer */
static void consume(struct worker *w, int round)
{
	struct worker *o = &run.w[(w->index + 1) % run.n];
	uint64_t *p, i;

	if (o->fd < 0)
		return; /* its allocation failed: reported by that thread */
	p = mmap(NULL, o->len, PROT_READ, MAP_SHARED, o->fd, 0);
	if (p == MAP_FAILED) {
		fail(w, "round %d: mmap of CPU %d's buffer: %s", round, o->cpu, strerror(errno));
		return;
	}
	buf_sync(o->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0; i < o->len / 8; i++) {
		if (p[i] != pattern(o->index, round, i)) {
			fail(w, "round %d: CPU %d's buffer reads 0x%llx at offset %llu on CPU %d, written 0x%llx",
			     round, o->cpu, (unsigned long long)p[i], (unsigned long long)(i * 8), w->cpu,
			     (unsigned long long)pattern(o->index, round, i));
			break;
		}
	}
	buf_sync(o->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(p, o->len);
	check_cpu(w, "read neighbour", round);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;
	int round;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fail(w, "pinning to CPU %d: %s", w->cpu, strerror(errno));
	for (round = 0; round < ROUNDS; round++) {
		produce(w, round);
		pthread_barrier_wait(&run.barrier);
		consume(w, round);
		pthread_barrier_wait(&run.barrier);
		if (w->fd >= 0)
			close(w->fd);
		w->fd = -1;
		check_cpu(w, "free", round);
		pthread_barrier_wait(&run.barrier);
	}
	return NULL;
}

/* the CMA area behind a heap, as the kernel names it in debugfs (see heap-placement.c) */
static void cma_area_of(const char *heap, char *area, size_t len)
{
	if (strcmp(heap, DEFAULT_CMA_HEAP))
		snprintf(area, len, "%s", heap);
	else if (!find_rmem_node(NULL, 1, area, len))
		snprintf(area, len, "reserved"); /* cma= on the command line, or the default size */
}

/* per-thread byte budget: a CMA area's share, else the largest round size */
static uint64_t heap_budget(const char *heap, int ncpu, char *why, size_t len)
{
	char area[256], path[512];
	unsigned long long pages;
	FILE *f;
	uint64_t area_bytes, b;

	cma_area_of(heap, area, sizeof(area));
	snprintf(path, sizeof(path), CMA_DEBUGFS "/%s/count", area);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%llu", &pages) != 1) {
		if (f)
			fclose(f);
		snprintf(why, len, "not a CMA area");
		return sizes[2];
	}
	fclose(f);
	area_bytes = (uint64_t)pages * sysconf(_SC_PAGESIZE);
	b = area_bytes / (2 * (uint64_t)ncpu);
	if (b > sizes[2])
		b = sizes[2];
	snprintf(why, len, "CMA area %s of %llu KiB", area, (unsigned long long)(area_bytes >> 10));
	return b;
}

static int online_cpus(int *cpus)
{
	cpu_set_t set;
	int i, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	for (i = 0; i < CPU_SETSIZE && n < MAX_CPUS; i++)
		if (CPU_ISSET(i, &set))
			cpus[n++] = i;
	return n;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	char *heaps[MAX_HEAPS], why[300];
	int cpus[MAX_CPUS], ncpu, nheaps = 0, h, i;
	long page = sysconf(_SC_PAGESIZE);
	DIR *d;
	struct dirent *e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	ncpu = online_cpus(cpus);
	d = opendir(HEAP_DIR);
	if (d) {
		while ((e = readdir(d)) && nheaps < MAX_HEAPS)
			if (e->d_name[0] != '.')
				heaps[nheaps++] = strdup(e->d_name);
		closedir(d);
	}
	qsort(heaps, nheaps, sizeof(heaps[0]), by_name);
	diag("%d CPUs online, %d heaps", ncpu, nheaps);
	if (ncpu == 0 || nheaps == 0) {
		tap(0, "stress: CPUs and heaps to stress (%d CPUs, %d heaps)", ncpu, nheaps);
		printf("1..%d\n", test_no);
		return 1;
	}
	for (h = 0; h < nheaps; h++) {
		char path[512];
		int failed = 0;

		run.budget = heap_budget(heaps[h], ncpu, why, sizeof(why));
		if (run.budget < (uint64_t)page) {
			tap_skip("heap %s: %d CPUs x %d rounds # SKIP %s leaves less than a page per CPU",
				 heaps[h], ncpu, ROUNDS, why);
			continue;
		}
		snprintf(path, sizeof(path), HEAP_DIR "/%s", heaps[h]);
		run.heap_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (run.heap_fd < 0) {
			tap(0, "heap %s: %d CPUs x %d rounds", heaps[h], ncpu, ROUNDS);
			diag("opening %s: %s", path, strerror(errno));
			continue;
		}
		run.n = ncpu;
		pthread_barrier_init(&run.barrier, NULL, ncpu);
		for (i = 0; i < ncpu; i++) {
			run.w[i] = (struct worker){ .cpu = cpus[i], .index = i, .fd = -1 };
			if (pthread_create(&run.w[i].thread, NULL, worker_main, &run.w[i])) {
				/* cannot happen short of memory; the barrier would never open */
				diag("heap %s: creating the thread for CPU %d failed", heaps[h], cpus[i]);
				return 1;
			}
		}
		for (i = 0; i < ncpu; i++) {
			pthread_join(run.w[i].thread, NULL);
			if (run.w[i].failed) {
				failed = 1;
				diag("heap %s, CPU %d: %d failures, first: %s", heaps[h], run.w[i].cpu,
				     run.w[i].failed, run.w[i].why);
			}
		}
		pthread_barrier_destroy(&run.barrier);
		close(run.heap_fd);
		diag("heap %s: up to %llu bytes per CPU (%s)", heaps[h],
		     (unsigned long long)round_size(2), why);
		tap(!failed, "heap %s: %d CPUs x %d rounds", heaps[h], ncpu, ROUNDS);
	}
	printf("1..%d\n", test_no);
	diag("heap-stress: %d pass, %d fail, %d skip", n_pass, n_fail, n_skip);
	return n_fail ? 1 : 0;
}
