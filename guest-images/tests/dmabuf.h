/* SPDX-License-Identifier: MIT */
/*
 * dmabuf.h - ioctls on dma-bufs and DRM devices, shared by heapsoc's guest tests: retried
 * while a signal or a busy device interrupts them. Each test program includes it once.
 */
#ifndef HEAPSOC_DMABUF_H
#define HEAPSOC_DMABUF_H

#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/dma-buf.h>

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && (errno == EINTR || errno == EAGAIN));
	return r;
}

/* DMA_BUF_IOCTL_SYNC start or end, FLAGS the direction (DMA_BUF_SYNC_*) */
static int buf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return xioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
}

#endif
