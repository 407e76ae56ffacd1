// SPDX-License-Identifier: Apache-2.0
/*
 * The config.json `spec` writes: the same container runc's `spec` describes
 * (busybox-like `sh` on a terminal, rootfs "rootfs" read-only, the usual
 * mounts, masked and read-only /proc paths, no network but loopback), so
 * that a bundle made for one runtime runs on the other.  Written as the
 * JSON it is and read by our own parser: what `spec` writes always parses.
 */
#include <string.h>

#include "internal.h"

static const char default_json[] =
	"{\"ociVersion\": \"" CTW_OCI_VERSION "\","
	" \"process\": {\"terminal\": true, \"user\": {\"uid\": 0, \"gid\": 0},"
	"  \"args\": [\"sh\"],"
	"  \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
	"           \"TERM=xterm\"],"
	"  \"cwd\": \"/\","
	"  \"capabilities\": {"
	"   \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
	"   \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
	"   \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
	"   \"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]},"
	"  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],"
	"  \"noNewPrivileges\": true},"
	" \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
	" \"hostname\": \"ctrwatch\","
	" \"mounts\": ["
	"  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
	"  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
	"   \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
	"  {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
	"   \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\","
	"                \"mode=0620\", \"gid=5\"]},"
	"  {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\","
	"   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},"
	"  {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\","
	"   \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
	"  {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\","
	"   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},"
	"  {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\","
	"   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}],"
	" \"linux\": {"
	"  \"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},"
	"  \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
	"                 {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}],"
	"  \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\","
	"   \"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\","
	"   \"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"],"
	"  \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\","
	"   \"/proc/sysrq-trigger\"]}}";

/* Rootless, as runc's `spec --rootless`: a user namespace mapping root to
 * the caller, no network namespace (a rootless caller cannot configure
 * one), /sys bound from the host (sysfs cannot be mounted), devpts without
 * gid=5 (not mapped), no device rules (cgroups are not ours to write). */
static void make_rootless(struct ctw_spec *s, uint32_t uid, uint32_t gid)
{
	struct ctw_spec_linux *l = &s->linux;
	size_t k = 0;
	for (size_t i = 0; i < l->n_namespaces; i++)
		if (l->namespaces[i].type != CTW_NS_NETWORK)
			l->namespaces[k++] = l->namespaces[i];
	l->namespaces[k++] = (struct ctw_spec_ns){.type = CTW_NS_USER};
	l->n_namespaces = k;
	l->uid_mappings = xcalloc(1, sizeof(*l->uid_mappings));
	l->uid_mappings[0] = (struct ctw_spec_idmap){0, uid, 1};
	l->n_uid_mappings = 1;
	l->gid_mappings = xcalloc(1, sizeof(*l->gid_mappings));
	l->gid_mappings[0] = (struct ctw_spec_idmap){0, gid, 1};
	l->n_gid_mappings = 1;
	ctw_spec_resources_fini(&l->resources);
	l->resources_set = false;
	for (size_t i = 0; i < s->n_mounts; i++) {
		struct ctw_spec_mount *m = &s->mounts[i];
		if (!strcmp(m->destination, "/sys")) {
			free(m->type);
			free(m->source);
			m->type = xstrdup("none");
			m->source = xstrdup("/sys");
			strv_free(m->options);
			m->options = NULL;
			static const char *const opts[] = {"rbind", "nosuid", "noexec", "nodev",
							   "ro"};
			for (size_t o = 0; o < ARRAY_SIZE(opts); o++)
				strv_add(&m->options, opts[o]);
		} else if (!strcmp(m->destination, "/dev/pts")) {
			size_t w = 0;
			for (size_t o = 0; m->options[o]; o++) {
				if (!strcmp(m->options[o], "gid=5"))
					free(m->options[o]);
				else
					m->options[w++] = m->options[o];
			}
			m->options[w] = NULL;
		}
	}
}

struct ctw_spec *ctw_spec_default(bool rootless, uint32_t uid, uint32_t gid)
{
	struct ctw_spec *s = NULL;
	struct ctw_err err = {0};
	if (ctw_spec_parse("default config.json", default_json, strlen(default_json), &s, &err)) {
		/* Our own text: a failure is a bug, caught by the unit tests. */
		pr_err("%s", err.msg);
		abort();
	}
	if (rootless)
		make_rootless(s, uid, gid);
	return s;
}
