// SPDX-License-Identifier: Apache-2.0
/* The OCI state document (what hooks read on stdin and `state` prints) and
 * the features document (`features`, runtime-spec features.md). */
#include <string.h>

#include <jansson.h>

#include "internal.h"

static const char *const status_names[] = {
	[CTW_OCI_CREATING] = "creating", [CTW_OCI_CREATED] = "created",
	[CTW_OCI_RUNNING] = "running",	 [CTW_OCI_STOPPED] = "stopped",
	[CTW_OCI_PAUSED] = "paused",
};

const char *ctw_oci_status_name(enum ctw_oci_status s)
{
	return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s] : "unknown";
}

char *ctw_oci_state_json(const struct ctw_oci_state *st, bool pretty)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "ociVersion", CTW_OCI_VERSION, "id", st->id,
			      "status", ctw_oci_status_name(st->status));
	/* pid: REQUIRED when created or running, absent otherwise. */
	if (st->pid > 0)
		json_object_set_new(o, "pid", json_integer(st->pid));
	json_object_set_new(o, "bundle", json_string(st->bundle ? st->bundle : ""));
	if (st->rootfs)
		json_object_set_new(o, "rootfs", json_string(st->rootfs));
	if (st->created_ns) {
		char t[48];
		ctw_format_time(st->created_ns, t, sizeof(t));
		json_object_set_new(o, "created", json_string(t));
	}
	if (st->owner)
		json_object_set_new(o, "owner", json_string(st->owner));
	json_t *a = json_object();
	for (size_t i = 0; st->annotations && i < st->annotations->n; i++)
		json_object_set_new(a, st->annotations->v[i].key,
				    json_string(st->annotations->v[i].value));
	json_object_set_new(o, "annotations", a);
	char *txt = json_dumps(o, (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return txt;
}

static json_t *names(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		if (v[i])
			json_array_append_new(a, json_string(v[i]));
	return a;
}

char *ctw_spec_features_json(void)
{
	static const char *const hooks[] = {"prestart",	      "createRuntime", "createContainer",
					    "startContainer", "poststart",     "poststop"};
	static const char *const mount_opts[] = {
		"async",	 "atime",	"bind",	       "defaults",  "dev",
		"diratime",	 "dirsync",	"exec",	       "iversion",  "lazytime",
		"loud",		 "mand",	"noatime",     "nodev",	    "nodiratime",
		"noexec",	 "noiversion",	"nolazytime",  "nomand",    "norelatime",
		"nostrictatime", "nosuid",	"nosymfollow", "private",   "rbind",
		"relatime",	 "remount",	"ro",	       "rprivate",  "rshared",
		"rslave",	 "runbindable", "rw",	       "shared",    "silent",
		"slave",	 "strictatime", "suid",	       "symfollow", "sync",
		"tmpcopyup",	 "unbindable",
	};
	static const char *const namespaces[] = {"cgroup", "ipc",  "mount", "network",
						 "pid",	   "user", "uts"};
	static const char *const sc_actions[] = {
		"SCMP_ACT_ALLOW",	"SCMP_ACT_ERRNO", "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS",
		"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",	  "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
	};
	static const char *const sc_ops[] = {
		"SCMP_CMP_EQ", "SCMP_CMP_GE",	     "SCMP_CMP_GT", "SCMP_CMP_LE",
		"SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
	};
	static const char *const sc_arches[] = {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64",
						"SCMP_ARCH_X32"};
	static const char *const sc_flags[] = {"SECCOMP_FILTER_FLAG_LOG",
					       "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
					       "SECCOMP_FILTER_FLAG_TSYNC"};
	json_t *caps = json_array();
	for (int c = 0; c < ctw_cap_count(); c++) {
		char n[40];
		snprintf(n, sizeof(n), "CAP_%s", ctw_cap_name(c));
		json_array_append_new(caps, json_string(n));
	}
	json_t *linux_ = json_pack(
		"{s:o, s:o, s:{s:b, s:b, s:b, s:b}, s:{s:b, s:o, s:o, s:o, s:o}, "
		"s:{s:b}, s:{s:b}, s:{s:b}}",
		"namespaces", names(namespaces, ARRAY_SIZE(namespaces)), "capabilities", caps,
		"cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0, "seccomp", "enabled", 1,
		"actions", names(sc_actions, ARRAY_SIZE(sc_actions)), "operators",
		names(sc_ops, ARRAY_SIZE(sc_ops)), "archs", names(sc_arches, ARRAY_SIZE(sc_arches)),
		"knownFlags", names(sc_flags, ARRAY_SIZE(sc_flags)), "apparmor", "enabled", 1,
		"selinux", "enabled", 1, "intelRdt", "enabled", 0);
	json_object_set_new(json_object_get(linux_, "seccomp"), "supportedFlags",
			    names(sc_flags, ARRAY_SIZE(sc_flags)));
	json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:s, s:s}}", "ociVersionMin", "1.0.0",
			      "ociVersionMax", CTW_OCI_VERSION, "hooks",
			      names(hooks, ARRAY_SIZE(hooks)), "mountOptions",
			      names(mount_opts, ARRAY_SIZE(mount_opts)), "linux", linux_,
			      "annotations", "io.ctrwatch.version", CTW_VERSION,
			      "io.ctrwatch.annotations", "io.ctrwatch.trace");
	char *txt = json_dumps(o, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return txt;
}
