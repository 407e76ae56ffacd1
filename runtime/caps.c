// SPDX-License-Identifier: Apache-2.0
/* Capabilities without libcap: Docker's default set, and the raw
 * prctl/capset calls that set the five sets (names: lib/caps.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "internal.h"

int caps_last(void)
{
	static int last = -1;
	if (last < 0) {
		char buf[16];
		if (ctw_read_line("/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) == 0)
			last = atoi(buf);
		if (last <= 0 || last > 63)
			last = CAP_LAST_CAP;
	}
	return last;
}

uint64_t ctw_caps_default(void)
{
	static const int def[] = {
		CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,	     CAP_FOWNER,
		CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,	     CAP_SETUID,
		CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
		CAP_KILL,    CAP_AUDIT_WRITE,
	};
	uint64_t m = 0;
	for (size_t i = 0; i < ARRAY_SIZE(def); i++)
		m |= 1ull << def[i];
	return m;
}

int caps_drop_bounding(uint64_t keep, struct ctw_err *err)
{
	int last = caps_last();
	for (int c = 0; c <= last; c++) {
		if (keep & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return ctw_err_set(err, errno, "drop capability %s from the bounding set",
					   ctw_cap_name(c) ? ctw_cap_name(c) : "?");
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return ctw_err_set(err, errno, "clear ambient capabilities");
	return 0;
}

int caps_set(uint64_t set, struct ctw_err *err)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)set;
	d[1].effective = d[1].permitted = (uint32_t)(set >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return ctw_err_set(err, errno, "set capabilities");
	return 0;
}
