// SPDX-License-Identifier: GPL-2.0
/*
 * heap-placement - the heapsoc guest's own dma-buf heap test.
 *
 * For every heap in /dev/dma_heap and every size of 4 KiB, 64 KiB, 1 MiB and 8 MiB (CMA heaps:
 * where the pool's largest free chunk holds it) it
 *   - allocates a buffer, mmaps it and checks it is zeroed,
 *   - writes a pattern between DMA_BUF_IOCTL_SYNC start/end and reads it back,
 *   - on CMA heaps finds the buffer's physical address by comparing the CMA debugfs bitmap
 *     (/sys/kernel/debug/cma/<area>/ranges/<r>/{base_pfn,bitmap}, order_per_bit) before and after
 *     the allocation, and checks it lies inside the heap's pool,
 *   - frees it, allocates the same size again and checks the new buffer is zeroed.
 * Each CMA pool itself is checked against the device tree: a static pool's debugfs range must equal
 * its /reserved-memory reg, a dynamic pool (no reg) must lie inside its alloc-ranges and inside the
 * /memory bank that holds them.
 *
 * Heap names (Linux 7.3, drivers/dma-buf/heaps/cma_heap.c): "system"; "default_cma_region" for the
 * default CMA area; every CMA area under its own name, which for a DT pool is the full node name
 * (kernel/dma/contiguous.c rmem_cma_setup -> rmem->name), e.g. "linux,cma", "display-cma@58000000".
 *
 * Output: TAP 13 (plan at the end) plus one machine-readable diagnostic per located buffer:
 *   # heapsoc-placement: heap=<name> size=<bytes> phys=0x<addr> len=0x<bytes> pool=0x<base>+0x<size> bank=<node>
 * Exit status: 0 when every check passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include "dmabuf.h"
#include "rmem.h"
#include "tap.h"

#define HEAP_DIR "/dev/dma_heap"
#define CMA_DEBUGFS "/sys/kernel/debug/cma"
#define DEFAULT_CMA_HEAP "default_cma_region"
#define MAX_RANGES 8
#define MAX_BANKS 16

static long page_size;

/* ---- files ---------------------------------------------------------------------------------- */

/* read a whole file; returns a malloc'd NUL-terminated buffer or NULL, length in *len */
static char *read_file(const char *path, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	buf = malloc(cap + 1);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += r;
	}
	close(fd);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static int read_u64(const char *path, uint64_t *val)
{
	char *s = read_file(path, NULL);
	char *end;

	if (!s)
		return -1;
	errno = 0;
	*val = strtoull(s, &end, 0);
	if (errno || end == s) {
		free(s);
		return -1;
	}
	free(s);
	return 0;
}

/* ---- device tree ------------------------------------------------------------------------------ */

struct region {
	uint64_t base, size;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int dt_cells(const char *node, const char *prop, int dflt)
{
	char path[1024];
	size_t len;
	char *s;
	int v = dflt;

	snprintf(path, sizeof(path), "%s/%s", node, prop);
	s = read_file(path, &len);
	if (s && len == 4)
		v = be32((unsigned char *)s);
	free(s);
	return v;
}

/* parse an (address, size) list property; returns the number of entries */
static int dt_regions(const char *path, int ac, int sc, struct region *out, int max)
{
	size_t len, off = 0;
	unsigned char *p = (unsigned char *)read_file(path, &len);
	int n = 0, i;

	if (!p)
		return 0;
	while (n < max && off + 4 * (ac + sc) <= len) {
		uint64_t a = 0, s = 0;

		for (i = 0; i < ac; i++, off += 4)
			a = a << 32 | be32(p + off);
		for (i = 0; i < sc; i++, off += 4)
			s = s << 32 | be32(p + off);
		out[n].base = a;
		out[n].size = s;
		n++;
	}
	free(p);
	return n;
}

struct bank {
	char name[256];
	struct region r;
};

static struct bank banks[MAX_BANKS];
static int nbanks;

static void load_banks(void)
{
	DIR *d = opendir(DT);
	struct dirent *e;
	int ac = dt_cells(DT, "#address-cells", 2), sc = dt_cells(DT, "#size-cells", 1);

	if (!d)
		return;
	while ((e = readdir(d)) && nbanks < MAX_BANKS) {
		char path[1024];
		struct region r[MAX_BANKS];
		char *type;
		int n, i;

		if (strncmp(e->d_name, "memory", 6) || (e->d_name[6] && e->d_name[6] != '@'))
			continue;
		snprintf(path, sizeof(path), DT "/%s/device_type", e->d_name);
		type = read_file(path, NULL);
		if (!type || strcmp(type, "memory")) {
			free(type);
			continue;
		}
		free(type);
		snprintf(path, sizeof(path), DT "/%s/reg", e->d_name);
		n = dt_regions(path, ac, sc, r, MAX_BANKS);
		for (i = 0; i < n && nbanks < MAX_BANKS; i++) {
			snprintf(banks[nbanks].name, sizeof(banks[nbanks].name), "%s", e->d_name);
			banks[nbanks].r = r[i];
			nbanks++;
		}
	}
	closedir(d);
}

static const char *bank_of(uint64_t base, uint64_t size)
{
	int i;

	for (i = 0; i < nbanks; i++)
		if (base >= banks[i].r.base && base + size <= banks[i].r.base + banks[i].r.size)
			return banks[i].name;
	return NULL;
}

/* ---- CMA debugfs ------------------------------------------------------------------------------ */

struct cma_range {
	uint64_t base_pfn;
	size_t nbits;
	uint32_t *bitmap;
	size_t nwords;
	char dir[640];
};

struct cma_area {
	char name[256];       /* CMA area (debugfs directory) name */
	char dt_node[256];   /* /reserved-memory node, if any */
	uint64_t count;       /* pages */
	uint64_t order_per_bit;
	int nranges;
	struct cma_range r[MAX_RANGES];
	struct region pool;   /* physical extent the buffers must lie in */
};

static int read_bitmap(const char *path, uint32_t **out, size_t *nwords)
{
	char *s = read_file(path, NULL), *p, *end;
	size_t cap = 64, n = 0;
	uint32_t *w;

	if (!s)
		return -1;
	w = malloc(cap * sizeof(*w));
	for (p = s;;) {
		unsigned long v = strtoul(p, &end, 10);

		if (end == p)
			break;
		if (n == cap) {
			cap *= 2;
			w = realloc(w, cap * sizeof(*w));
		}
		w[n++] = (uint32_t)v;
		p = end;
	}
	free(s);
	*out = w;
	*nwords = n;
	return 0;
}

static int cma_snapshot(struct cma_area *a, uint32_t **maps)
{
	int i;

	for (i = 0; i < a->nranges; i++) {
		char path[1024];
		size_t n;

		snprintf(path, sizeof(path), "%s/bitmap", a->r[i].dir);
		if (read_bitmap(path, &maps[i], &n))
			return -1;
		if (n != a->r[i].nwords) {
			free(maps[i]);
			return -1;
		}
	}
	return 0;
}

static int cma_load(const char *name, struct cma_area *a)
{
	char path[1024], base[512];
	uint64_t left;
	int i;

	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(base, sizeof(base), CMA_DEBUGFS "/%s", name);
	snprintf(path, sizeof(path), "%s/count", base);
	if (read_u64(path, &a->count))
		return -1;
	snprintf(path, sizeof(path), "%s/order_per_bit", base);
	if (read_u64(path, &a->order_per_bit))
		return -1;
	for (i = 0; i < MAX_RANGES; i++) {
		snprintf(a->r[i].dir, sizeof(a->r[i].dir), "%s/ranges/%d", base, i);
		snprintf(path, sizeof(path), "%s/base_pfn", a->r[i].dir);
		if (read_u64(path, &a->r[i].base_pfn))
			break;
	}
	a->nranges = i;
	if (!a->nranges) { /* kernels before multi-range CMA: base_pfn and bitmap at the top */
		snprintf(a->r[0].dir, sizeof(a->r[0].dir), "%s", base);
		snprintf(path, sizeof(path), "%s/base_pfn", base);
		if (read_u64(path, &a->r[0].base_pfn))
			return -1;
		a->nranges = 1;
	}
	left = a->count;
	for (i = 0; i < a->nranges; i++) {
		uint32_t *map;
		uint64_t bits;

		snprintf(path, sizeof(path), "%s/bitmap", a->r[i].dir);
		if (read_bitmap(path, &map, &a->r[i].nwords))
			return -1;
		free(map);
		bits = (uint64_t)a->r[i].nwords * 32;
		/* the bitmap is rounded up to u32s: a single range holds exactly count pages */
		if (a->nranges == 1 || (bits << a->order_per_bit) > left)
			bits = (left + (1ull << a->order_per_bit) - 1) >> a->order_per_bit;
		a->r[i].nbits = bits;
		left -= (bits << a->order_per_bit) < left ? (bits << a->order_per_bit) : left;
	}
	return 0;
}

static uint64_t cma_range_bytes(const struct cma_area *a, int i)
{
	uint64_t pages = (uint64_t)a->r[i].nbits << a->order_per_bit;

	if (a->nranges == 1)
		pages = a->count;
	return pages * page_size;
}

static int bit(const uint32_t *map, size_t i)
{
	return (map[i / 32] >> (i % 32)) & 1;
}

/*
 * compare two bitmap snapshots: find the run of newly set bits that covers NPAGES pages; returns
 * 0 and the physical address, or -1 (with the number of new runs seen in *runs)
 */
static int cma_locate(const struct cma_area *a, uint32_t **before, uint32_t **after, uint64_t npages,
		      uint64_t *phys, int *runs)
{
	uint64_t need = (npages + (1ull << a->order_per_bit) - 1) >> a->order_per_bit;
	int i, found = 0;

	*runs = 0;
	for (i = 0; i < a->nranges; i++) {
		size_t b = 0, n = a->r[i].nbits;

		while (b < n) {
			size_t start;

			if (!(bit(after[i], b) && !bit(before[i], b))) {
				b++;
				continue;
			}
			start = b;
			while (b < n && bit(after[i], b) && !bit(before[i], b))
				b++;
			(*runs)++;
			/* a run may be longer if a neighbour was allocated concurrently: take the first fit */
			if (!found && b - start >= need) {
				*phys = ((a->r[i].base_pfn + ((uint64_t)start << a->order_per_bit)) *
					 (uint64_t)page_size);
				found = 1;
			}
		}
	}
	return found ? 0 : -1;
}

/* ---- dma-buf ---------------------------------------------------------------------------------- */

static int heap_alloc(int heap_fd, size_t len)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
		return -1;
	return (int)data.fd;
}

/* returns the offset of the first non-zero byte, or -1 */
static long first_nonzero(const void *p, size_t len)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i]) {
			const unsigned char *b = (const unsigned char *)&w[i];
			int j;

			for (j = 0; j < 8; j++)
				if (b[j])
					return (long)(i * 8 + j);
		}
	return -1;
}

static uint64_t pattern(uint64_t seed, size_t i)
{
	uint64_t x = (seed + i) * 0x9E3779B97F4A7C15ull;

	return x ^ (x >> 29);
}

/* map FD, check it is zeroed; returns 0 on success, or -1 with a message in ERR */
static int check_zeroed(int fd, size_t len, char *err, size_t errlen)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	long nz;

	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mmap: %s", strerror(errno));
		return -1;
	}
	if (buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)) {
		snprintf(err, errlen, "SYNC_START: %s", strerror(errno));
		munmap(p, len);
		return -1;
	}
	nz = first_nonzero(p, len);
	buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(p, len);
	if (nz >= 0) {
		snprintf(err, errlen, "byte at offset %ld is not zero", nz);
		return -1;
	}
	return 0;
}

/* write a pattern between SYNC_START/END (RW) and read it back between SYNC_START/END (READ) */
static int check_pattern(int fd, size_t len, uint64_t seed, char *err, size_t errlen)
{
	uint64_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	size_t i, n = len / 8;
	int ret = 0;

	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mmap: %s", strerror(errno));
		return -1;
	}
	if (buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW)) {
		snprintf(err, errlen, "SYNC_START(RW): %s", strerror(errno));
		ret = -1;
		goto out;
	}
	for (i = 0; i < n; i++)
		p[i] = pattern(seed, i);
	if (buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW)) {
		snprintf(err, errlen, "SYNC_END(RW): %s", strerror(errno));
		ret = -1;
		goto out;
	}
	if (buf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)) {
		snprintf(err, errlen, "SYNC_START(READ): %s", strerror(errno));
		ret = -1;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (p[i] != pattern(seed, i)) {
			snprintf(err, errlen, "word %zu reads 0x%016llx, wrote 0x%016llx", i,
				 (unsigned long long)p[i], (unsigned long long)pattern(seed, i));
			ret = -1;
			break;
		}
	if (buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ) && !ret) {
		snprintf(err, errlen, "SYNC_END(READ): %s", strerror(errno));
		ret = -1;
	}
out:
	munmap(p, len);
	return ret;
}

/* ---- per heap --------------------------------------------------------------------------------- */

static const size_t sizes[] = { 4096, 64 << 10, 1 << 20, 8 << 20 };

/* check a CMA pool against the device tree; fills a->pool; returns 0 if the pool is usable */
static int check_pool(const char *heap, struct cma_area *a)
{
	char node[512], path[1024];
	struct region reg[4], ranges[MAX_BANKS];
	int ac = dt_cells(DT "/reserved-memory", "#address-cells", 2);
	int sc = dt_cells(DT "/reserved-memory", "#size-cells", 2);
	uint64_t dbase = a->r[0].base_pfn * (uint64_t)page_size, dsize = 0;
	const char *bank;
	int i, n;

	for (i = 0; i < a->nranges; i++)
		dsize += cma_range_bytes(a, i);
	if (a->nranges != 1)
		diag("%s: CMA area %s has %d ranges; checking range 0..%d as one extent", heap, a->name,
		     a->nranges, a->nranges - 1);
	a->pool.base = dbase;
	a->pool.size = dsize;

	if (!a->dt_node[0]) {
		bank = bank_of(dbase, dsize);
		diag("%s: CMA area %s 0x%llx+0x%llx (no DT node) inside %s", heap, a->name,
		     (unsigned long long)dbase, (unsigned long long)dsize, bank ? bank : "no /memory bank");
		tap(bank != NULL, "%s: CMA area %s inside a /memory bank", heap, a->name);
		return bank ? 0 : -1;
	}
	snprintf(node, sizeof(node), DT "/reserved-memory/%s", a->dt_node);
	snprintf(path, sizeof(path), "%s/reg", node);
	n = dt_regions(path, ac, sc, reg, 4);
	if (n > 0) {
		/* static pool: the kernel's CMA area must be exactly the DT region */
		bank = bank_of(reg[0].base, reg[0].size);
		a->pool = reg[0];
		diag("%s: pool %s: DT reg 0x%llx+0x%llx, debugfs 0x%llx+0x%llx, in %s", heap,
		     a->dt_node, (unsigned long long)reg[0].base, (unsigned long long)reg[0].size,
		     (unsigned long long)dbase, (unsigned long long)dsize,
		     bank ? bank : "no /memory bank");
		tap(reg[0].base == dbase && reg[0].size == dsize && bank,
		    "%s: pool %s is its DT reg, inside a /memory bank", heap, a->dt_node);
		return 0;
	}
	/* dynamic pool: placed by the kernel inside alloc-ranges (or anywhere in RAM) */
	snprintf(path, sizeof(path), "%s/alloc-ranges", node);
	n = dt_regions(path, ac, sc, ranges, MAX_BANKS);
	for (i = 0; i < n; i++)
		if (dbase >= ranges[i].base && dbase + dsize <= ranges[i].base + ranges[i].size)
			break;
	if (n > 0) {
		const char *rbank = i < n ? bank_of(ranges[i].base, ranges[i].size) : NULL;

		diag("%s: dynamic pool %s at 0x%llx+0x%llx, alloc-ranges 0x%llx+0x%llx (%s)", heap,
		     a->dt_node, (unsigned long long)dbase, (unsigned long long)dsize,
		     (unsigned long long)(i < n ? ranges[i].base : ranges[0].base),
		     (unsigned long long)(i < n ? ranges[i].size : ranges[0].size),
		     rbank ? rbank : "alloc-ranges not inside one /memory bank");
		tap(i < n && rbank, "%s: dynamic pool %s inside its alloc-ranges", heap, a->dt_node);
		return i < n ? 0 : -1;
	}
	bank = bank_of(dbase, dsize);
	diag("%s: dynamic pool %s at 0x%llx+0x%llx (no alloc-ranges) in %s", heap, a->dt_node,
	     (unsigned long long)dbase, (unsigned long long)dsize, bank ? bank : "no /memory bank");
	tap(bank != NULL, "%s: dynamic pool %s inside a /memory bank", heap, a->dt_node);
	return bank ? 0 : -1;
}

static void test_heap(const char *heap)
{
	char path[1024], sz[32], err[256], cma_name[256] = "";
	struct cma_area area;
	int is_cma = 0, heap_fd;
	size_t k;

	diag("heap %s", heap);
	/* which CMA area backs this heap? */
	snprintf(path, sizeof(path), CMA_DEBUGFS "/%s", heap);
	if (exists(path)) {
		snprintf(cma_name, sizeof(cma_name), "%s", heap);
	} else if (!strcmp(heap, DEFAULT_CMA_HEAP)) {
		char node[256];

		if (find_rmem_node(NULL, 1, node, sizeof(node)))
			snprintf(cma_name, sizeof(cma_name), "%s", node);
		else
			snprintf(cma_name, sizeof(cma_name), "reserved"); /* cma= on the command line */
	}
	if (cma_name[0]) {
		if (cma_load(cma_name, &area)) {
			diag("%s: CMA debugfs %s/%s unreadable (CONFIG_CMA_DEBUGFS, debugfs mounted?)",
			     heap, CMA_DEBUGFS, cma_name);
			tap(0, "%s: CMA debugfs readable", heap);
			return;
		}
		find_rmem_node(cma_name, 0, area.dt_node, sizeof(area.dt_node));
		if (!area.dt_node[0] && !strcmp(heap, DEFAULT_CMA_HEAP))
			find_rmem_node(NULL, 1, area.dt_node, sizeof(area.dt_node));
		is_cma = 1;
		diag("%s: CMA area %s, %llu pages, order_per_bit %llu, %d range(s), DT node %s", heap,
		     cma_name, (unsigned long long)area.count, (unsigned long long)area.order_per_bit,
		     area.nranges, area.dt_node[0] ? area.dt_node : "(none)");
		if (check_pool(heap, &area))
			return;
	} else if (strcmp(heap, "system")) {
		diag("%s: no CMA area found for this heap: placement not checked", heap);
	}

	snprintf(path, sizeof(path), HEAP_DIR "/%s", heap);
	heap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (heap_fd < 0) {
		diag("%s: open %s: %s", heap, path, strerror(errno));
		tap(0, "%s: open the heap", heap);
		return;
	}

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t len = sizes[k];
		uint64_t npages = len / page_size, phys = 0, phys2 = 0;
		char where[64];
		uint32_t *before[MAX_RANGES] = { 0 }, *after[MAX_RANGES] = { 0 };
		int fd, runs = 0, snap, i, ok;

		size_str(len, sz, sizeof(sz));
		if (is_cma) {
			uint64_t maxchunk;

			snprintf(path, sizeof(path), CMA_DEBUGFS "/%s/maxchunk", cma_name);
			if (!read_u64(path, &maxchunk) && maxchunk * page_size < len) {
				tap_skip("%s: %s buffer # SKIP largest free chunk is %llu KiB", heap, sz,
					 (unsigned long long)(maxchunk * page_size >> 10));
				continue;
			}
			if (cma_snapshot(&area, before)) {
				diag("%s: cannot read the CMA bitmap of %s", heap, cma_name);
				tap(0, "%s: %s buffer: CMA bitmap readable", heap, sz);
				continue;
			}
		}
		fd = heap_alloc(heap_fd, len);
		if (fd < 0) {
			diag("%s: allocate %s buffer: %s", heap, sz, strerror(errno));
			tap(0, "%s: allocate %s buffer", heap, sz);
			goto next;
		}
		if (is_cma) {
			if (cma_snapshot(&area, after)) {
				diag("%s: cannot read the CMA bitmap of %s", heap, cma_name);
				tap(0, "%s: %s buffer inside its pool", heap, sz);
			} else if (cma_locate(&area, before, after, npages, &phys, &runs)) {
				diag("%s: %s buffer not found in the CMA bitmap of %s (%d new runs)", heap,
				     sz, cma_name, runs);
				tap(0, "%s: %s buffer inside its pool", heap, sz);
			} else {
				int inside = phys >= area.pool.base &&
					     phys + len <= area.pool.base + area.pool.size;
				const char *bank = bank_of(phys, len);

				diag("%s: %s buffer at 0x%llx %s pool 0x%llx+0x%llx", heap, sz,
				     (unsigned long long)phys, inside ? "inside" : "OUTSIDE",
				     (unsigned long long)area.pool.base,
				     (unsigned long long)area.pool.size);
				tap(inside, "%s: %s buffer inside its pool", heap, sz);
				printf("# heapsoc-placement: heap=%s size=%zu phys=0x%llx len=0x%zx pool=0x%llx+0x%llx bank=%s\n",
				       heap, len, (unsigned long long)phys, len,
				       (unsigned long long)area.pool.base, (unsigned long long)area.pool.size,
				       bank ? bank : "none");
			}
		}
		ok = !check_zeroed(fd, len, err, sizeof(err));
		if (!ok)
			diag("%s: new %s buffer: %s", heap, sz, err);
		tap(ok, "%s: new %s buffer zeroed", heap, sz);
		ok = !check_pattern(fd, len, 0x5eed0000 + k, err, sizeof(err));
		if (!ok)
			diag("%s: %s buffer write/read back: %s", heap, sz, err);
		tap(ok, "%s: %s buffer write/read back with DMA_BUF_IOCTL_SYNC", heap, sz);
		close(fd);

		/* the freed (dirty) memory must not leak into the next buffer */
		for (i = 0; i < MAX_RANGES; i++) {
			free(before[i]);
			free(after[i]);
			before[i] = after[i] = NULL;
		}
		where[0] = 0;
		snap = is_cma && !cma_snapshot(&area, before);
		fd = heap_alloc(heap_fd, len);
		if (fd < 0) {
			diag("%s: re-allocate %s buffer after free: %s", heap, sz, strerror(errno));
			tap(0, "%s: re-allocate %s buffer after free", heap, sz);
			goto next;
		}
		if (snap && !cma_snapshot(&area, after) &&
		    !cma_locate(&area, before, after, npages, &phys2, &runs))
			snprintf(where, sizeof(where), " at 0x%llx%s", (unsigned long long)phys2,
				 phys2 == phys ? ", the freed pages" : "");
		ok = !check_zeroed(fd, len, err, sizeof(err));
		diag("%s: %s buffer re-allocated%s%s%s", heap, sz, where, ok ? "" : ": ",
		     ok ? "" : err);
		tap(ok, "%s: %s buffer re-allocated after freeing a written one is zeroed", heap, sz);
		close(fd);
next:
		for (i = 0; i < MAX_RANGES; i++) {
			free(before[i]);
			free(after[i]);
		}
	}
	close(heap_fd);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	char *heaps[64];
	int nheaps = 0, i;
	DIR *d;
	struct dirent *e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	printf("TAP version 13\n");
	diag("heapsoc heap placement test");

	load_banks();
	for (i = 0; i < nbanks; i++)
		diag("RAM bank %s: 0x%llx+0x%llx", banks[i].name, (unsigned long long)banks[i].r.base,
		     (unsigned long long)banks[i].r.size);

	d = opendir(HEAP_DIR);
	if (!d) {
		tap(0, "open %s: %s (CONFIG_DMABUF_HEAPS?)", HEAP_DIR, strerror(errno));
		goto done;
	}
	while ((e = readdir(d)) && nheaps < 64)
		if (e->d_name[0] != '.')
			heaps[nheaps++] = strdup(e->d_name);
	closedir(d);
	qsort(heaps, nheaps, sizeof(heaps[0]), cmp_str);
	diag("%d heaps in %s", nheaps, HEAP_DIR);
	tap(nheaps > 0, "heaps found in %s", HEAP_DIR);
	if (!exists(CMA_DEBUGFS))
		diag("%s missing: is debugfs mounted and CONFIG_CMA_DEBUGFS set?", CMA_DEBUGFS);

	for (i = 0; i < nheaps; i++)
		test_heap(heaps[i]);
done:
	printf("1..%d\n", test_no);
	printf("# Totals: pass:%d fail:%d skip:%d\n", n_pass, n_fail, n_skip);
	return n_fail ? 1 : 0;
}
