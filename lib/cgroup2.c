// SPDX-License-Identifier: Apache-2.0
/* Where the cgroup v2 hierarchy is mounted, for every module alike. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "lib.h"

static bool is_cgroup2(const char *dir)
{
	struct statfs sf;
	return statfs(dir, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

const char *ctw_cgroup2_mount(void)
{
	static char mnt[PATH_MAX];
	static bool done;
	if (done)
		return mnt[0] ? mnt : NULL;
	done = true;
	/* /sys/fs/cgroup itself first: on a unified host a cgroup that
	 * happens to be called "unified" is cgroup2 too (statfs of any
	 * cgroup directory says so), and is not the root.  Then the hybrid
	 * place; else the first cgroup2 in mountinfo. */
	const char *cands[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
		if (is_cgroup2(cands[i])) {
			ctw_strlcpy(mnt, cands[i], sizeof(mnt));
			return mnt;
		}
	}
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		if (!strstr(line, " - cgroup2 "))
			continue;
		char mp[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1) {
			ctw_strlcpy(mnt, mp, sizeof(mnt));
			break;
		}
	}
	free(line);
	fclose(f);
	return mnt[0] ? mnt : NULL;
}
