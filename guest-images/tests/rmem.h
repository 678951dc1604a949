/* SPDX-License-Identifier: MIT */
/*
 * rmem.h - the device tree's /reserved-memory as the guest sees it, shared by heapsoc's guest
 * tests: which node is a heap's CMA pool. Each test program includes it once.
 */
#ifndef HEAPSOC_RMEM_H
#define HEAPSOC_RMEM_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define DT "/proc/device-tree"

static inline int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* the /reserved-memory child whose full node name is NAME, or which is the default CMA pool */
static inline int find_rmem_node(const char *name, int want_default, char *out, size_t len)
{
	DIR *d = opendir(DT "/reserved-memory");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char path[1024];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), DT "/reserved-memory/%s", e->d_name);
		if (want_default) {
			char prop[1280];

			snprintf(prop, sizeof(prop), "%s/linux,cma-default", path);
			found = exists(prop);
		} else {
			found = !strcmp(e->d_name, name);
		}
		if (found)
			snprintf(out, len, "%s", e->d_name);
	}
	closedir(d);
	return found;
}

#endif
