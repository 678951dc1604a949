/* SPDX-License-Identifier: MIT */
/*
 * tap.h - the TAP helpers shared by heapsoc's guest tests: numbered ok / not ok lines,
 * SKIP, "# " diagnostics and human sizes. Each test program includes it once.
 */
#ifndef HEAPSOC_TAP_H
#define HEAPSOC_TAP_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

static int test_no, n_pass, n_fail, n_skip;

static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		n_pass++;
	else
		n_fail++;
}

static void tap_skip(const char *fmt, ...)
{
	va_list ap;

	printf("ok %d - ", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	n_skip++;
}

static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline const char *size_str(uint64_t n, char *buf, size_t len)
{
	if (n >= (1 << 20) && n % (1 << 20) == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(n >> 20));
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, len, "%llu KiB", (unsigned long long)(n >> 10));
	else
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	return buf;
}

#endif
