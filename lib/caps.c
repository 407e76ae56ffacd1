// SPDX-License-Identifier: Apache-2.0
/* Capability names (what `run --cap-add`, seccomp profiles and config.json
 * spell), without libcap. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "lib.h"

static const char *const cap_names[] = {
	"CHOWN",
	"DAC_OVERRIDE",
	"DAC_READ_SEARCH",
	"FOWNER",
	"FSETID",
	"KILL",
	"SETGID",
	"SETUID",
	"SETPCAP",
	"LINUX_IMMUTABLE",
	"NET_BIND_SERVICE",
	"NET_BROADCAST",
	"NET_ADMIN",
	"NET_RAW",
	"IPC_LOCK",
	"IPC_OWNER",
	"SYS_MODULE",
	"SYS_RAWIO",
	"SYS_CHROOT",
	"SYS_PTRACE",
	"SYS_PACCT",
	"SYS_ADMIN",
	"SYS_BOOT",
	"SYS_NICE",
	"SYS_RESOURCE",
	"SYS_TIME",
	"SYS_TTY_CONFIG",
	"MKNOD",
	"LEASE",
	"AUDIT_WRITE",
	"AUDIT_CONTROL",
	"SETFCAP",
	"MAC_OVERRIDE",
	"MAC_ADMIN",
	"SYSLOG",
	"WAKE_ALARM",
	"BLOCK_SUSPEND",
	"AUDIT_READ",
	"PERFMON",
	"BPF",
	"CHECKPOINT_RESTORE",
};

int ctw_cap_from_name(const char *name)
{
	if (!strncasecmp(name, "CAP_", 4))
		name += 4;
	if (!strcasecmp(name, "ALL"))
		return -2;
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (!strcasecmp(name, cap_names[i]))
			return (int)i;
	return -EINVAL;
}

const char *ctw_cap_name(int cap)
{
	return cap >= 0 && (size_t)cap < ARRAY_SIZE(cap_names) ? cap_names[cap] : NULL;
}

int ctw_cap_count(void)
{
	return (int)ARRAY_SIZE(cap_names);
}
