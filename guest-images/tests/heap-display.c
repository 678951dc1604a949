// SPDX-License-Identifier: GPL-2.0
/*
 * heap-display - the heapsoc guest's dma-buf heap -> display test.
 *
 * For every DRM device in /dev/dri (card*, identified by DRM_IOCTL_VERSION's driver name: "pl111"
 * is the contiguous-scanout display, "virtio_gpu" the scatter-gather GPU; other drivers, e.g.
 * vgem, are listed and skipped) and every heap in /dev/dma_heap it allocates XRGB8888 buffers of
 *   - one page (32 x page/128 pixels: 32x32 with 4 KiB pages),
 *   - 64x64 (16 KiB),
 *   - the display's mode size (640x480 if the connector offers it, else its preferred mode;
 *     640x480 when the device has no usable connector),
 * fills the test pattern through mmap between DMA_BUF_IOCTL_SYNC start/end, imports the dma-buf
 * with DRM_IOCTL_PRIME_FD_TO_HANDLE, creates a framebuffer with DRM_IOCTL_MODE_ADDFB2 and, for
 * mode-sized buffers on a device with a connected connector, an encoder, a CRTC and a mode, shows
 * it with DRM_IOCTL_MODE_SETCRTC. Every frame shown stays on the display for the hold time
 * (kernel command line heapsoc.display_hold_ms=, default 400 ms; the host takes its screenshot
 * then) until the next one replaces it; after the last one the CRTC is switched off and everything
 * released (RMFB, GEM_CLOSE, munmap, close). When no heap buffer could be shown on a display (a
 * PL111 that refuses imports, a virtio-gpu without blob resources), a dumb buffer with the same
 * pattern is shown instead, so the screenshot always has it. heapsoc.display_heap=NAME (repeatable)
 * limits the test to those heaps (the heap a board's display policy names, say).
 *
 * Test pattern (XRGB8888), for a W x H buffer with serial number TAG (tag= in the lines below):
 *   rows 0 .. H*7/8-1: 8 vertical colour bars, bar i = columns [i*W/8, (i+1)*W/8): white ffffff,
 *                      yellow ffff00, cyan 00ffff, green 00ff00, magenta ff00ff, red ff0000,
 *                      blue 0000ff, black 000000;
 *   rows H*7/8 .. H-1: 16 cells, cell i = columns [i*W/16, (i+1)*W/16): white if bit 15-i of TAG
 *                      is set, else black (a barcode: which buffer a screenshot shows).
 *
 * Expected import results (Linux 7.3):
 *   pl111 (drivers/gpu/drm/pl111/pl111_drv.c pl111_gem_import_sg_table):
 *     - with a memory-region in its DT node (of_reserved_mem_device_init() succeeded,
 *       priv->use_device_memory): every import fails with EINVAL, whatever the heap;
 *     - otherwise drm_gem_dma_prime_import_sg_table(): EINVAL unless the buffer's DMA addresses
 *       are one contiguous range (drm_prime_get_contiguous_size() < size). CMA heap buffers are
 *       contiguous: import succeeds. A one-page system-heap buffer is one entry: succeeds. A
 *       larger system-heap buffer is refused with EINVAL *unless its pages happen to be
 *       physically consecutive* (the buddy allocator often hands out consecutive pages on a fresh
 *       boot): both are accepted, reported as result=refused or result=ok contiguous=by-chance.
 *     - the PL111 is a 32-bit DMA master: on a board with RAM above 4 GiB (/proc/iomem), a
 *       buffer there is bounced through swiotlb when it fits or refused (EIO, ENOMEM): a CMA
 *       area ending above 4 GiB (CMA debugfs) and system-heap buffers on such a board may be
 *       accepted or refused. The expectation comes from the board the guest runs on, never
 *       from one board's addresses; every refusal is printed with its errno and reason.
 *   Test point names are stable (heap, size, step); results, errnos and addresses are in the
 *   "# " lines before each point.
 *   virtio_gpu (drivers/gpu/drm/virtio/virtgpu_prime.c virtgpu_gem_prime_import):
 *     - with VIRTIO_GPU_F_RESOURCE_BLOB and without virgl (DRM_IOCTL_VIRTGPU_GETPARAM
 *       RESOURCE_BLOB = 1, 3D_FEATURES = 0): every heap's buffer imports as a guest blob
 *       (RESOURCE_CREATE_BLOB with the buffer's scatter list of guest-physical addresses);
 *     - otherwise drm_gem_prime_import() -> virtgpu_gem_prime_import_sg_table(): ENODEV.
 *   After a successful import, ADDFB2 must succeed; SETCRTC of a mode-sized framebuffer must
 *   succeed.
 *
 * Output: TAP 13 (plan at the end) plus machine-readable diagnostics:
 *   # heapsoc-display: device=<driver> card=<cardN> heap=<name|dumb> size=<bytes> width=<w> height=<h> tag=<n> fb=<id|0> import=<ok|errno|-> result=<ok|shown|refused|fail>
 *   # heapsoc-scanout: device=<driver> card=<cardN> heap=<name|dumb> size=<bytes> width=<w> height=<h> tag=<n> fb=<id> crtc=<id> connector=<id> hold_ms=<ms> pattern=bars+tag
 * (heapsoc-scanout is printed once the frame is on the display, just before its hold.)
 * Exit status: 0 when every check passed, 1 on a failure, 4 (kselftest SKIP) when there is no
 * pl111 or virtio_gpu DRM device at all.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_mode.h>
#include <drm/virtgpu_drm.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include "dmabuf.h"
#include "tap.h"

#define HEAP_DIR "/dev/dma_heap"
#define DRI_DIR "/dev/dri"
#define CMA_DEBUGFS "/sys/kernel/debug/cma"
#define DEFAULT_CMA_HEAP "default_cma_region"
#define HOLD_MS 400 /* default of heapsoc.display_hold_ms= */
#define WATCHDOG_S 120
#define DEFAULT_W 640
#define DEFAULT_H 480
#define MAX_HEAPS 64
#define MAX_CARDS 16
#define DRM_CONNECTED 1 /* drm_mode_get_connector.connection: 1 connected, 2 not, 3 unknown */

static long page_size;
static long hold_ms = HOLD_MS;
static unsigned int next_tag = 1;

static const char *errname(int e)
{
	const char *s = strerrorname_np(e);

	return s ? s : "E?";
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* an ioctl that restarts on EINTR/EAGAIN (as libdrm's drmIoctl) */
/* never hang: a stuck ioctl ends the program with a TAP failure after WATCHDOG_S seconds */
static void watchdog(int sig)
{
	static const char msg[] = "not ok 999 - watchdog: heap-display did not finish in time\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* ---- dma-buf heaps -------------------------------------------------------------------------- */

enum heap_kind { HEAP_SYSTEM, HEAP_CMA, HEAP_OTHER };

static enum heap_kind heap_kind(const char *heap)
{
	char path[512];

	if (!strcmp(heap, "system"))
		return HEAP_SYSTEM;
	snprintf(path, sizeof(path), CMA_DEBUGFS "/%s", heap);
	if (!strcmp(heap, DEFAULT_CMA_HEAP) || exists(path))
		return HEAP_CMA;
	return HEAP_OTHER;
}

static int heap_alloc(const char *heap, size_t len, int *err)
{
	char path[512];
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int hfd, r;

	snprintf(path, sizeof(path), HEAP_DIR "/%s", heap);
	hfd = open(path, O_RDONLY | O_CLOEXEC);
	if (hfd < 0) {
		*err = errno;
		return -1;
	}
	r = xioctl(hfd, DMA_HEAP_IOCTL_ALLOC, &data);
	*err = errno;
	close(hfd);
	return r < 0 ? -1 : (int)data.fd;
}

/* 8 vertical bars, left to right (XRGB8888) */
static const uint32_t bars[8] = {
	0x00ffffff, 0x00ffff00, 0x0000ffff, 0x0000ff00, 0x00ff00ff, 0x00ff0000, 0x000000ff, 0x00000000,
};

static uint32_t pattern_px(uint32_t x, uint32_t y, uint32_t w, uint32_t h, unsigned int tag)
{
	if ((uint64_t)y * 8 < (uint64_t)h * 7)
		return bars[(uint64_t)x * 8 / w];
	return (tag >> (15 - (uint64_t)x * 16 / w)) & 1 ? 0x00ffffff : 0;
}

static void fill_pattern(uint32_t *p, uint32_t w, uint32_t h, uint32_t pitch, unsigned int tag)
{
	uint32_t x, y;

	for (y = 0; y < h; y++) {
		uint32_t *row = (uint32_t *)((char *)p + (size_t)y * pitch);

		for (x = 0; x < w; x++)
			row[x] = pattern_px(x, y, w, h, tag);
	}
}

/* check the pattern reads back (catches a mapping that does not reach the buffer) */
static int check_pattern(const uint32_t *p, uint32_t w, uint32_t h, uint32_t pitch, unsigned int tag)
{
	uint32_t x, y;

	for (y = 0; y < h; y++) {
		const uint32_t *row = (const uint32_t *)((const char *)p + (size_t)y * pitch);

		for (x = 0; x < w; x++)
			if (row[x] != pattern_px(x, y, w, h, tag))
				return -1;
	}
	return 0;
}

/* fill the dma-buf through mmap between SYNC_START/END(RW); 0 or -1 with a message in ERR */
static int fill_dmabuf(int fd, size_t len, uint32_t w, uint32_t h, unsigned int tag, char *err,
		       size_t errlen)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
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
	fill_pattern(p, w, h, w * 4, tag);
	if (check_pattern(p, w, h, w * 4, tag)) {
		snprintf(err, errlen, "the pattern does not read back");
		ret = -1;
	}
	if (buf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW) && !ret) {
		snprintf(err, errlen, "SYNC_END(RW): %s", strerror(errno));
		ret = -1;
	}
out:
	munmap(p, len);
	return ret;
}

/* ---- DRM ------------------------------------------------------------------------------------ */

struct display {
	int ok;                     /* a connected connector with a mode, an encoder and a CRTC */
	uint32_t connector_id, crtc_id;
	struct drm_mode_modeinfo mode;
};

struct card {
	char name[32];              /* card0 */
	char driver[64];            /* DRM_IOCTL_VERSION name */
	int fd;
	/* pl111: the DT node has memory-region (the driver refuses every import) */
	int device_memory;
	/* virtio_gpu: GETPARAM results */
	int blob, virgl;
	struct display disp;
	/* the frame on the display (0 = none) */
	uint32_t shown_fb, shown_handle;
	int shown_dumb, shown_dmabuf;
	unsigned int shown_tag;
	char shown_heap[256];
	size_t shown_size;
};

static int drm_driver_name(int fd, char *out, size_t len)
{
	struct drm_version v;

	memset(&v, 0, sizeof(v));
	v.name = out;
	v.name_len = len - 1;
	memset(out, 0, len);
	return xioctl(fd, DRM_IOCTL_VERSION, &v);
}

static void gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	if (handle)
		xioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

static void rmfb(int fd, uint32_t fb)
{
	if (fb)
		xioctl(fd, DRM_IOCTL_MODE_RMFB, &fb);
}

static int addfb_pitch(int fd, uint32_t handle, uint32_t w, uint32_t h, uint32_t pitch,
		       uint32_t *fb_id)
{
	struct drm_mode_fb_cmd2 f;

	memset(&f, 0, sizeof(f));
	f.width = w;
	f.height = h;
	f.pixel_format = DRM_FORMAT_XRGB8888;
	f.handles[0] = handle;
	f.pitches[0] = pitch;
	if (xioctl(fd, DRM_IOCTL_MODE_ADDFB2, &f))
		return -1;
	*fb_id = f.fb_id;
	return 0;
}

static int setcrtc(struct card *c, uint32_t fb_id)
{
	struct drm_mode_crtc s;
	uint32_t conn = c->disp.connector_id;

	memset(&s, 0, sizeof(s));
	s.crtc_id = c->disp.crtc_id;
	if (fb_id) {
		s.fb_id = fb_id;
		s.set_connectors_ptr = (uintptr_t)&conn;
		s.count_connectors = 1;
		s.mode = c->disp.mode;
		s.mode_valid = 1;
	}
	return xioctl(c->fd, DRM_IOCTL_MODE_SETCRTC, &s);
}

/* the connector's ids/modes, read with the usual two calls (the first, with counts 0, probes) */
static int get_connector(int fd, uint32_t id, struct drm_mode_get_connector *out,
			 struct drm_mode_modeinfo **modes, uint32_t **encoders)
{
	int tries;

	*modes = NULL;
	*encoders = NULL;
	for (tries = 0; tries < 4; tries++) {
		struct drm_mode_get_connector c;
		uint32_t nm, ne;

		memset(&c, 0, sizeof(c));
		c.connector_id = id;
		if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c))
			return -1;
		nm = c.count_modes;
		ne = c.count_encoders;
		free(*modes);
		free(*encoders);
		*modes = calloc(nm + 1, sizeof(**modes));
		*encoders = calloc(ne + 1, sizeof(**encoders));
		c.count_props = 0;
		c.props_ptr = c.prop_values_ptr = 0;
		c.modes_ptr = (uintptr_t)*modes;
		c.encoders_ptr = (uintptr_t)*encoders;
		if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c))
			return -1;
		if (c.count_modes <= nm && c.count_encoders <= ne) {
			*out = c;
			return 0;
		}
	}
	errno = EAGAIN;
	return -1;
}

static const char *connection_str(uint32_t c)
{
	return c == 1 ? "connected" : c == 2 ? "disconnected" : "unknown";
}

/* find a connected connector, its encoder, a CRTC and a mode (640x480 preferred, then the
 * connector's preferred mode, then its first) */
static void find_display(struct card *c)
{
	struct drm_mode_card_res res;
	uint32_t *crtcs = NULL, *conns = NULL, *encs = NULL, i, j;

	memset(&c->disp, 0, sizeof(c->disp));
	memset(&res, 0, sizeof(res));
	if (xioctl(c->fd, DRM_IOCTL_MODE_GETRESOURCES, &res)) {
		diag("%s (%s): GETRESOURCES: %s: no KMS", c->name, c->driver, strerror(errno));
		return;
	}
	crtcs = calloc(res.count_crtcs + 1, 4);
	conns = calloc(res.count_connectors + 1, 4);
	encs = calloc(res.count_encoders + 1, 4);
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.connector_id_ptr = (uintptr_t)conns;
	res.encoder_id_ptr = (uintptr_t)encs;
	res.count_fbs = 0;
	res.fb_id_ptr = 0;
	if (xioctl(c->fd, DRM_IOCTL_MODE_GETRESOURCES, &res)) {
		diag("%s (%s): GETRESOURCES: %s", c->name, c->driver, strerror(errno));
		goto out;
	}
	diag("%s (%s): %u CRTC(s), %u connector(s), %u encoder(s), fb %ux%u..%ux%u", c->name,
	     c->driver, res.count_crtcs, res.count_connectors, res.count_encoders, res.min_width,
	     res.min_height, res.max_width, res.max_height);
	for (i = 0; i < res.count_connectors && !c->disp.ok; i++) {
		struct drm_mode_get_connector conn;
		struct drm_mode_modeinfo *modes, *mode = NULL;
		uint32_t *cencs, crtc = 0;

		if (get_connector(c->fd, conns[i], &conn, &modes, &cencs)) {
			diag("%s: GETCONNECTOR %u: %s", c->name, conns[i], strerror(errno));
			continue;
		}
		diag("%s: connector %u type %u: %s, %u mode(s)%s%s", c->name, conn.connector_id,
		     conn.connector_type, connection_str(conn.connection), conn.count_modes,
		     conn.count_modes ? ", first " : "", conn.count_modes ? modes[0].name : "");
		for (j = 0; j < conn.count_modes && !mode; j++)
			if (modes[j].hdisplay == DEFAULT_W && modes[j].vdisplay == DEFAULT_H)
				mode = &modes[j];
		for (j = 0; j < conn.count_modes && !mode; j++)
			if (modes[j].type & DRM_MODE_TYPE_PREFERRED)
				mode = &modes[j];
		if (!mode && conn.count_modes)
			mode = &modes[0];
		/* the encoder in use, else any of the connector's; a CRTC it can drive */
		for (j = 0; j <= conn.count_encoders && !crtc; j++) {
			struct drm_mode_get_encoder e;
			uint32_t id = j == 0 ? conn.encoder_id : cencs[j - 1], k;

			if (!id)
				continue;
			memset(&e, 0, sizeof(e));
			e.encoder_id = id;
			if (xioctl(c->fd, DRM_IOCTL_MODE_GETENCODER, &e))
				continue;
			if (e.crtc_id) {
				crtc = e.crtc_id;
				break;
			}
			for (k = 0; k < res.count_crtcs && k < 32; k++)
				if (e.possible_crtcs & (1u << k)) {
					crtc = crtcs[k];
					break;
				}
		}
		if (conn.connection == DRM_CONNECTED && mode && crtc) {
			c->disp.ok = 1;
			c->disp.connector_id = conn.connector_id;
			c->disp.crtc_id = crtc;
			c->disp.mode = *mode;
			diag("%s: display: connector %u, CRTC %u, mode %ux%u@%u (%s)", c->name,
			     conn.connector_id, crtc, mode->hdisplay, mode->vdisplay, mode->vrefresh,
			     mode->name);
		} else if (conn.connection == DRM_CONNECTED) {
			diag("%s: connector %u is connected but has %s%s: nothing can be shown", c->name,
			     conn.connector_id, mode ? "" : "no usable mode (all pruned by mode_valid?)",
			     crtc ? "" : (mode ? "no CRTC" : " and no CRTC"));
		}
		free(modes);
		free(cencs);
	}
out:
	free(crtcs);
	free(conns);
	free(encs);
}

/* drop the frame on the display (the CRTC off first: RMFB of the scanout fb would do it too) */
static void release_shown(struct card *c, int crtc_off)
{
	if (!c->shown_fb)
		return;
	if (crtc_off && setcrtc(c, 0))
		diag("%s: switching CRTC %u off: %s", c->name, c->disp.crtc_id, strerror(errno));
	rmfb(c->fd, c->shown_fb);
	if (c->shown_dumb) {
		struct drm_mode_destroy_dumb d = { .handle = c->shown_handle };

		xioctl(c->fd, DRM_IOCTL_MODE_DESTROY_DUMB, &d);
	} else {
		gem_close(c->fd, c->shown_handle);
	}
	if (c->shown_dmabuf >= 0)
		close(c->shown_dmabuf);
	c->shown_fb = c->shown_handle = 0;
	c->shown_dmabuf = -1;
	c->shown_dumb = 0;
}

/* show FB; on success it becomes the card's frame (the previous one is released), is announced
 * with a heapsoc-scanout line and stays alone on the display for hold_ms */
static int show(struct card *c, uint32_t fb, uint32_t handle, int dmabuf, int dumb, const char *heap,
		size_t size, unsigned int tag)
{
	if (setcrtc(c, fb))
		return -1;
	release_shown(c, 0);
	c->shown_fb = fb;
	c->shown_handle = handle;
	c->shown_dmabuf = dmabuf;
	c->shown_dumb = dumb;
	c->shown_tag = tag;
	snprintf(c->shown_heap, sizeof(c->shown_heap), "%s", heap);
	c->shown_size = size;
	printf("# heapsoc-scanout: device=%s card=%s heap=%s size=%zu width=%u height=%u tag=%u fb=%u crtc=%u connector=%u hold_ms=%ld pattern=bars+tag\n",
	       c->driver, c->name, heap, size, c->disp.mode.hdisplay, c->disp.mode.vdisplay, tag, fb,
	       c->disp.crtc_id, c->disp.connector_id, hold_ms);
	/* /init prefixes our output with busybox sed, which reads a line ahead (for "$"): this line
	 * pushes the heapsoc-scanout line out to the console now, not after the hold */
	diag("%s: holding tag %u for %ld ms", c->driver, tag, hold_ms);
	fflush(stdout);
	sleep_ms(hold_ms);
	return 0;
}

/* ---- per buffer ------------------------------------------------------------------------------ */

enum expect { EXPECT_OK, EXPECT_EINVAL, EXPECT_ENODEV, EXPECT_OK_OR_REFUSED };

/*
 * What the board allows, read in the guest: where RAM ends (/proc/iomem) and where each CMA
 * area lies (CMA debugfs). The PL111 is a 32-bit AMBA master (its coherent DMA mask is
 * DMA_BIT_MASK(32)): a buffer above 4 GiB is bounced through swiotlb if it fits, or the
 * import fails (EIO, ENOMEM, ...): both are the board's answer, not a test failure.
 */
#define PL111_DMA_REACH (1ULL << 32)
static unsigned long long ram_end; /* one past the highest System RAM byte, 0 if unknown */

static void read_ram_end(void)
{
	char line[256];
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;

		/* top-level lines only (nested resources are indented) */
		if (line[0] != ' ' && strstr(line, ": System RAM") &&
		    sscanf(line, "%llx-%llx", &a, &b) == 2 && b + 1 > ram_end)
			ram_end = b + 1;
	}
	fclose(f);
	diag("System RAM ends at 0x%llx%s", ram_end,
	     ram_end > PL111_DMA_REACH ? ": above the PL111's 32-bit DMA reach" : "");
}

/* the CMA area (CMA debugfs directory) behind HEAP: the heap's own name, or for
 * default_cma_region the reserved-memory node with linux,cma-default, else "reserved" (the
 * area the kernel makes from cma= or CONFIG_CMA_SIZE_MBYTES) */
static void cma_area_of(const char *heap, char *out, size_t len)
{
	DIR *d;
	struct dirent *e;

	snprintf(out, len, "%s", heap);
	if (strcmp(heap, DEFAULT_CMA_HEAP))
		return;
	snprintf(out, len, "reserved");
	d = opendir("/proc/device-tree/reserved-memory");
	while (d && (e = readdir(d))) {
		char path[512];

		snprintf(path, sizeof(path), "/proc/device-tree/reserved-memory/%s/linux,cma-default",
			 e->d_name);
		if (e->d_name[0] != '.' && exists(path))
			snprintf(out, len, "%s", e->d_name);
	}
	if (d)
		closedir(d);
}

/* one past the end of the CMA area that backs HEAP (mm/cma_debug.c: base_pfn of range 0 and
 * count, both decimal), 0 if unknown or if the area has more than one range */
static unsigned long long cma_area_end(const char *heap)
{
	char area[256], path[640];
	unsigned long long base = 0, count = 0;
	FILE *f;

	cma_area_of(heap, area, sizeof(area));
	snprintf(path, sizeof(path), CMA_DEBUGFS "/%s/ranges/1", area);
	if (exists(path))
		return 0;
	snprintf(path, sizeof(path), CMA_DEBUGFS "/%s/base_pfn", area);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &base) != 1)
		base = 0;
	fclose(f);
	snprintf(path, sizeof(path), CMA_DEBUGFS "/%s/count", area);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &count) != 1)
		count = 0;
	fclose(f);
	return base && count ? (base + count) * (unsigned long long)page_size : 0;
}

/* a refusal of an import the board may make: not contiguous, beyond the DMA reach */
static int is_refusal(int e)
{
	return e == EINVAL || e == EIO || e == ENOMEM || e == ENOSPC;
}

static enum expect expected_import(const struct card *c, const char *heap, enum heap_kind kind,
				   size_t len, char *why, size_t whylen)
{
	if (!strcmp(c->driver, "pl111")) {
		unsigned long long end = kind == HEAP_CMA ? cma_area_end(heap) : 0;
		int low_ram = ram_end && ram_end <= PL111_DMA_REACH;

		if (c->device_memory) {
			snprintf(why, whylen, "pl111 with memory-region refuses every import");
			return EXPECT_EINVAL;
		}
		if (kind == HEAP_CMA && ((end && end <= PL111_DMA_REACH) || (!end && low_ram))) {
			snprintf(why, whylen, "CMA buffers are contiguous and this area is below 4 GiB");
			return EXPECT_OK;
		}
		if (kind == HEAP_CMA) {
			snprintf(why, whylen,
				 "CMA buffers are contiguous, but the area %s 4 GiB (the PL111's DMA reach)",
				 end ? "ends above" : "may lie above");
			return EXPECT_OK_OR_REFUSED;
		}
		if (kind == HEAP_SYSTEM && len <= (size_t)page_size && low_ram) {
			snprintf(why, whylen, "a one-page buffer is one contiguous entry below 4 GiB");
			return EXPECT_OK;
		}
		snprintf(why, whylen, "%s%s",
			 kind == HEAP_SYSTEM ? (len <= (size_t)page_size ? "one page"
								   : "system heap pages are contiguous only by chance")
					     : "unknown heap: contiguity unknown",
			 low_ram ? "" : "; RAM reaches above the PL111's 32-bit DMA reach");
		return EXPECT_OK_OR_REFUSED;
	}
	/* virtio_gpu */
	if (c->blob && !c->virgl) {
		snprintf(why, whylen, "resource_blob without virgl: imported as a guest blob");
		return EXPECT_OK;
	}
	snprintf(why, whylen, "%s",
		 c->virgl ? "virgl: drm_gem_prime_import -> import_sg_table returns ENODEV"
			  : "no resource_blob: drm_gem_prime_import -> import_sg_table returns ENODEV");
	return EXPECT_ENODEV;
}

static void test_buffer(struct card *c, const char *heap, uint32_t w, uint32_t h)
{
	size_t len = (size_t)w * h * 4;
	enum heap_kind kind = heap_kind(heap);
	char sz[32], err[256], what[512], imp[32] = "-", why[256] = "";
	const char *result = "fail";
	struct drm_prime_handle ph;
	enum expect exp;
	uint32_t fb = 0, handle = 0;
	unsigned int tag = next_tag++ & 0xffff;
	int fd, e, ok, mode_sized, contiguous_by_chance = 0;

	size_str(len, sz, sizeof(sz));
	snprintf(what, sizeof(what), "%s: %s %s %ux%u buffer", c->driver, heap, sz, w, h);
	fd = heap_alloc(heap, len, &e);
	if (fd < 0) {
		diag("%s: allocate: %s", what, strerror(e));
		tap(0, "%s: allocate", what);
		goto report;
	}
	if (fill_dmabuf(fd, len, w, h, tag, err, sizeof(err))) {
		diag("%s: fill colour bars through mmap: %s", what, err);
		tap(0, "%s: fill colour bars through mmap", what);
		goto report;
	}

	/* import */
	exp = expected_import(c, heap, kind, len, why, sizeof(why));
	memset(&ph, 0, sizeof(ph));
	ph.fd = fd;
	e = xioctl(c->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph) ? errno : 0;
	snprintf(imp, sizeof(imp), "%s", e ? errname(e) : "ok");
	switch (exp) {
	case EXPECT_OK:
		ok = !e;
		diag("%s: PRIME import %s (expected ok: %s)", what, e ? errname(e) : "ok", why);
		break;
	case EXPECT_EINVAL:
	case EXPECT_ENODEV: {
		int want = exp == EXPECT_EINVAL ? EINVAL : ENODEV;

		ok = e == want;
		diag("%s: PRIME import %s (expected %s: %s)", what, e ? errname(e) : "succeeded",
		     errname(want), why);
		break;
	}
	case EXPECT_OK_OR_REFUSED:
		ok = !e || is_refusal(e);
		diag("%s: PRIME import %s%s%s (ok or a refusal: %s)", what,
		     e ? "refused with " : "accepted", e ? errname(e) : "",
		     e ? (is_refusal(e) ? "" : ", which is not a refusal") : "", why);
		contiguous_by_chance = !e && kind == HEAP_SYSTEM && len > (size_t)page_size;
		break;
	}
	tap(ok, "%s: PRIME import", what);
	if (e) {
		result = (exp == EXPECT_OK || !ok) ? "fail" : "refused";
		goto report;
	}
	handle = ph.handle;

	/* framebuffer */
	ok = !addfb_pitch(c->fd, handle, w, h, w * 4, &fb);
	if (!ok)
		diag("%s: ADDFB2 XRGB8888 %ux%u pitch %u: %s", what, w, h, w * 4, strerror(errno));
	tap(ok, "%s: ADDFB2 XRGB8888", what);
	if (!ok) {
		fb = 0;
		goto report;
	}
	result = "ok";

	/* scanout: mode-sized framebuffers on a device with a display */
	mode_sized = c->disp.ok && w == c->disp.mode.hdisplay && h == c->disp.mode.vdisplay;
	if (mode_sized) {
		ok = !show(c, fb, handle, fd, 0, heap, len, tag);
		if (!ok)
			diag("%s: SETCRTC CRTC %u connector %u mode %s: %s", what, c->disp.crtc_id,
			     c->disp.connector_id, c->disp.mode.name, strerror(errno));
		tap(ok, "%s: SETCRTC", what);
		if (ok) {
			result = "shown";
			printf("# heapsoc-display: device=%s card=%s heap=%s size=%zu width=%u height=%u tag=%u fb=%u import=%s result=%s%s\n",
			       c->driver, c->name, heap, len, w, h, tag, fb, imp, result,
			       contiguous_by_chance ? " contiguous=by-chance" : "");
			return; /* now the card's frame: released later */
		}
		result = "fail";
	}
report:
	printf("# heapsoc-display: device=%s card=%s heap=%s size=%zu width=%u height=%u tag=%u fb=%u import=%s result=%s%s\n",
	       c->driver, c->name, heap, len, w, h, tag, fb, imp, result,
	       contiguous_by_chance ? " contiguous=by-chance" : "");
	rmfb(c->fd, fb);
	gem_close(c->fd, handle);
	if (fd >= 0)
		close(fd);
}

/* a dumb buffer with the same bars, for a display that showed no heap buffer */
static void show_dumb(struct card *c)
{
	struct drm_mode_create_dumb cd;
	struct drm_mode_map_dumb md;
	struct drm_mode_destroy_dumb dd;
	uint32_t w = c->disp.mode.hdisplay, h = c->disp.mode.vdisplay, fb = 0;
	unsigned int tag = next_tag++ & 0xffff;
	void *p;

	memset(&cd, 0, sizeof(cd));
	cd.width = w;
	cd.height = h;
	cd.bpp = 32;
	if (xioctl(c->fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd)) {
		tap(0, "%s: no heap buffer was shown; CREATE_DUMB %ux%u: %s", c->driver, w, h,
		    strerror(errno));
		return;
	}
	memset(&md, 0, sizeof(md));
	md.handle = cd.handle;
	if (xioctl(c->fd, DRM_IOCTL_MODE_MAP_DUMB, &md) ||
	    (p = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, md.offset)) ==
		    MAP_FAILED) {
		tap(0, "%s: dumb buffer %ux%u: map: %s", c->driver, w, h, strerror(errno));
		goto destroy;
	}
	fill_pattern(p, w, h, cd.pitch, tag);
	munmap(p, cd.size);
	if (addfb_pitch(c->fd, cd.handle, w, h, cd.pitch, &fb)) {
		tap(0, "%s: dumb buffer %ux%u: ADDFB2: %s", c->driver, w, h, strerror(errno));
		goto destroy;
	}
	if (show(c, fb, cd.handle, -1, 1, "dumb", (size_t)cd.size, tag)) {
		tap(0, "%s: dumb buffer %ux%u fb %u: SETCRTC: %s", c->driver, w, h, fb, strerror(errno));
		rmfb(c->fd, fb);
		goto destroy;
	}
	diag("%s: dumb buffer %ux%u fb %u shown", c->driver, w, h, fb);
	tap(1, "%s: no heap buffer could be shown: a dumb buffer shown instead", c->driver);
	printf("# heapsoc-display: device=%s card=%s heap=dumb size=%zu width=%u height=%u tag=%u fb=%u import=- result=shown\n",
	       c->driver, c->name, (size_t)cd.size, w, h, tag, fb);
	return;
destroy:
	dd.handle = cd.handle;
	xioctl(c->fd, DRM_IOCTL_MODE_DESTROY_DUMB, &dd);
}

/* ---- per card -------------------------------------------------------------------------------- */

static void test_card(struct card *c, char **heaps, int nheaps)
{
	uint32_t one_w = 32, one_h = (uint32_t)(page_size / (32 * 4));
	uint32_t big_w = DEFAULT_W, big_h = DEFAULT_H;
	int i;

	c->shown_dmabuf = -1;
	if (!strcmp(c->driver, "pl111")) {
		char path[256];

		snprintf(path, sizeof(path), "/sys/class/drm/%s/device/of_node/memory-region", c->name);
		c->device_memory = exists(path);
		diag("%s (pl111): DT node %s memory-region%s", c->name,
		     c->device_memory ? "has a" : "has no",
		     c->device_memory ? ": imports are refused (pl111_gem_import_sg_table)" : "");
	} else {
		struct drm_virtgpu_getparam gp = { .param = VIRTGPU_PARAM_RESOURCE_BLOB };
		uint64_t v = 0;

		gp.value = (uintptr_t)&v;
		c->blob = !xioctl(c->fd, DRM_IOCTL_VIRTGPU_GETPARAM, &gp) && v;
		v = 0;
		gp.param = VIRTGPU_PARAM_3D_FEATURES;
		c->virgl = !xioctl(c->fd, DRM_IOCTL_VIRTGPU_GETPARAM, &gp) && v;
		diag("%s (virtio_gpu): resource_blob %s, virgl %s", c->name, c->blob ? "yes" : "no",
		     c->virgl ? "yes" : "no");
	}
	find_display(c);
	if (c->disp.ok) {
		big_w = c->disp.mode.hdisplay;
		big_h = c->disp.mode.vdisplay;
	} else {
		tap_skip("%s: %s: SETCRTC # SKIP no connected connector with a mode and a CRTC",
			 c->driver, c->name);
	}

	for (i = 0; i < nheaps; i++) {
		diag("%s: heap %s", c->driver, heaps[i]);
		test_buffer(c, heaps[i], one_w, one_h);
		if (64 * 64 * 4 != (size_t)one_w * one_h * 4)
			test_buffer(c, heaps[i], 64, 64);
		test_buffer(c, heaps[i], big_w, big_h);
	}
	if (c->disp.ok && !c->shown_fb)
		show_dumb(c);

	if (c->shown_fb) {
		char sz[32];

		diag("%s: last frame: %s %s buffer (fb %u, tag %u); switching CRTC %u off", c->driver,
		     c->shown_heap, size_str(c->shown_size, sz, sizeof(sz)), c->shown_fb, c->shown_tag,
		     c->disp.crtc_id);
		release_shown(c, 1);
	}
}

/* heapsoc.display_hold_ms=N on the kernel command line */
static void read_hold_ms(void)
{
	static const char key[] = "heapsoc.display_hold_ms=";
	char buf[4096], *p;
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f)) {
		for (p = strtok(buf, " \n"); p; p = strtok(NULL, " \n"))
			if (!strncmp(p, key, sizeof(key) - 1)) {
				long v = strtol(p + sizeof(key) - 1, NULL, 10);

				if (v >= 0 && v <= 10000)
					hold_ms = v;
			}
	}
	fclose(f);
}

/*
 * heapsoc.display_heap=NAME on the kernel command line (repeatable): test only these heaps, e.g.
 * the one heap a board's display policy names. Returns how many names were given; names the
 * board has no heap for are failures.
 */
static int limit_heaps(char **heaps, int *nheaps)
{
	static const char key[] = "heapsoc.display_heap=";
	char buf[4096], *p, *wanted[MAX_HEAPS];
	int nwanted = 0, i, k, kept = 0;
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		for (p = strtok(buf, " \n"); p && nwanted < MAX_HEAPS; p = strtok(NULL, " \n"))
			if (!strncmp(p, key, sizeof(key) - 1))
				wanted[nwanted++] = p + sizeof(key) - 1;
	fclose(f);
	if (!nwanted)
		return 0;
	for (k = 0; k < nwanted; k++) {
		for (i = 0; i < *nheaps && strcmp(heaps[i], wanted[k]); i++)
			;
		tap(i < *nheaps, "heap %s named by heapsoc.display_heap= is in " HEAP_DIR, wanted[k]);
	}
	for (i = 0; i < *nheaps; i++) {
		for (k = 0; k < nwanted && strcmp(heaps[i], wanted[k]); k++)
			;
		if (k < nwanted)
			heaps[kept++] = heaps[i];
		else
			free(heaps[i]);
	}
	*nheaps = kept;
	diag("heaps limited by heapsoc.display_heap= to %d", kept);
	return nwanted;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	static const char *const wanted[] = { "pl111", "virtio_gpu" };
	char *heaps[MAX_HEAPS], *names[MAX_CARDS];
	struct card cards[MAX_CARDS];
	int nheaps = 0, nnames = 0, ncards = 0, ndisplays = 0, i, k;
	DIR *d;
	struct dirent *e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	read_hold_ms();
	read_ram_end();
	signal(SIGALRM, watchdog);
	alarm(WATCHDOG_S + hold_ms * (MAX_HEAPS + 1) / 1000);
	printf("TAP version 13\n");
	diag("heapsoc heap -> display test (page size %ld, frames held %ld ms)", page_size, hold_ms);

	d = opendir(HEAP_DIR);
	if (!d) {
		tap(0, "open %s: %s (CONFIG_DMABUF_HEAPS?)", HEAP_DIR, strerror(errno));
		goto done;
	}
	while ((e = readdir(d)) && nheaps < MAX_HEAPS)
		if (e->d_name[0] != '.')
			heaps[nheaps++] = strdup(e->d_name);
	closedir(d);
	qsort(heaps, nheaps, sizeof(heaps[0]), cmp_str);
	diag("%d heaps in %s", nheaps, HEAP_DIR);
	tap(nheaps > 0, "heaps found in %s", HEAP_DIR);
	limit_heaps(heaps, &nheaps);

	d = opendir(DRI_DIR);
	while (d && (e = readdir(d)) && nnames < MAX_CARDS)
		if (!strncmp(e->d_name, "card", 4))
			names[nnames++] = strdup(e->d_name);
	if (d)
		closedir(d);
	qsort(names, nnames, sizeof(names[0]), cmp_str);
	for (i = 0; i < nnames; i++) {
		char path[512];
		struct card *c = &cards[ncards];

		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s", names[i]);
		snprintf(path, sizeof(path), DRI_DIR "/%s", names[i]);
		c->fd = open(path, O_RDWR | O_CLOEXEC);
		if (c->fd < 0) {
			tap(0, "open %s: %s", path, strerror(errno));
			continue;
		}
		if (drm_driver_name(c->fd, c->driver, sizeof(c->driver))) {
			tap(0, "%s: DRM_IOCTL_VERSION: %s", path, strerror(errno));
			close(c->fd);
			continue;
		}
		diag("%s: driver %s", path, c->driver);
		ncards++;
	}
	if (!nnames)
		diag("no DRM device in %s", DRI_DIR);

	for (k = 0; k < 2; k++) {
		int found = 0;

		for (i = 0; i < ncards; i++) {
			if (strcmp(cards[i].driver, wanted[k]))
				continue;
			found++;
			ndisplays++;
			test_card(&cards[i], heaps, nheaps);
		}
		if (!found)
			tap_skip("%s: # SKIP no %s DRM device%s", wanted[k], wanted[k],
				 nnames ? "" : " (no DRM device at all)");
	}
	for (i = 0; i < ncards; i++) {
		if (strcmp(cards[i].driver, wanted[0]) && strcmp(cards[i].driver, wanted[1]))
			diag("%s: driver %s is not a display this test knows: skipped", cards[i].name,
			     cards[i].driver);
		close(cards[i].fd);
	}
done:
	printf("1..%d\n", test_no);
	printf("# Totals: pass:%d fail:%d skip:%d\n", n_pass, n_fail, n_skip);
	if (n_fail)
		return 1;
	return ndisplays ? 0 : 4;
}
