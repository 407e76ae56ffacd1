// SPDX-License-Identifier: Apache-2.0
/*
 * config.json's "linux" object: namespaces, id mappings, devices,
 * cgroupsPath and resources, sysctl, seccomp, propagation, masked and
 * read-only paths, labels and personality.  Lists of objects are read one
 * element at a time by the *_one() readers (pc_objects).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>

#include "internal.h"

static const char *const ns_names[CTW_NS_MAX] = {
	[CTW_NS_PID] = "pid",	    [CTW_NS_NETWORK] = "network", [CTW_NS_MOUNT] = "mount",
	[CTW_NS_IPC] = "ipc",	    [CTW_NS_UTS] = "uts",	  [CTW_NS_USER] = "user",
	[CTW_NS_CGROUP] = "cgroup", [CTW_NS_TIME] = "time",
};

const char *ctw_ns_name(enum ctw_ns_type t)
{
	return (unsigned)t < CTW_NS_MAX ? ns_names[t] : "?";
}

/* Index of s in names[n], or -1. */
static int lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -1;
}

/* The string at key, one of names[n] ("unknown WHAT %s", listing them
 * when they are few, otherwise): its index in *out; absent or "": *out
 * untouched (an error when required). */
static int name_at(struct pc *c, json_t *o, const char *key, bool required,
		   const char *const *names, size_t n, const char *what, int *out)
{
	char *s = NULL;
	int r = required ? pc_req_str(c, o, key, &s) : pc_str(c, o, key, &s);
	if (!r && s && (*s || required)) {
		int i = lookup(names, n, s);
		if (i < 0 && n == 2)
			r = pc_fail_at(c, key, "unknown %s %s (%s or %s)", what, s, names[0],
				       names[1]);
		else if (i < 0)
			r = pc_fail_at(c, key, "unknown %s %s", what, s);
		else
			*out = i;
	}
	free(s);
	return r;
}

/* ---- namespaces, mappings, devices ---- */

static int ns_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	const struct ctw_spec_linux *l = ctx;
	struct ctw_spec_ns *ns = elem;
	int t = -1, r;
	pc_unknown(c, v, (const char *const[]){"type", "path", NULL});
	r = name_at(c, v, "type", true, ns_names, CTW_NS_MAX, "namespace type", &t);
	ns->type = (enum ctw_ns_type)t;
	for (const struct ctw_spec_ns *o = l->namespaces; !r && o < ns; o++)
		if (o->type == ns->type)
			r = pc_fail_at(c, "type", "%s given twice", ns_names[t]);
	(void)(r || (r = pc_str(c, v, "path", &ns->path)) ||
	       (ns->path && (r = pc_check_at(c, "path", pc_check_abs, ns->path))));
	return r;
}

static int idmap_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	struct ctw_spec_idmap *m = elem;
	int64_t cid = 0, hid = 0, size = 0;
	int r;
	(void)((r = pc_req_i64(c, v, "containerID", 0, UINT32_MAX, &cid)) ||
	       (r = pc_req_i64(c, v, "hostID", 0, UINT32_MAX, &hid)) ||
	       (r = pc_req_i64(c, v, "size", 1, UINT32_MAX, &size)));
	*m = (struct ctw_spec_idmap){(uint32_t)cid, (uint32_t)hid, (uint32_t)size};
	return r;
}

/* A one-letter type among letters: *out. */
static int type_at(struct pc *c, json_t *o, bool required, const char *letters, const char *names,
		   char *out)
{
	char *type = NULL;
	int r = required ? pc_req_str(c, o, "type", &type) : pc_str(c, o, "type", &type);
	if (!r && type) {
		if (strlen(type) != 1 || !strchr(letters, type[0]))
			r = pc_fail_at(c, "type", "unknown device type %s (%s)", type, names);
		else
			*out = type[0];
	}
	free(type);
	return r;
}

static int device_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	struct ctw_spec_device *d = elem;
	int r;
	pc_unknown(c, v,
		   (const char *const[]){"type", "path", "major", "minor", "fileMode", "uid", "gid",
					 NULL});
	(void)((r = type_at(c, v, true, "cbup", "c, b, u or p", &d->type)) ||
	       (r = pc_req_str(c, v, "path", &d->path)) ||
	       (r = pc_check_at(c, "path", pc_check_abs, d->path)) ||
	       (d->type != 'p' && ((r = pc_req_i64(c, v, "major", 0, UINT32_MAX, &d->major)) ||
				   (r = pc_req_i64(c, v, "minor", 0, UINT32_MAX, &d->minor)))) ||
	       (r = pc_u64(c, v, "fileMode", 07777, &d->file_mode)) ||
	       (r = pc_u64(c, v, "uid", UINT32_MAX, &d->uid)) ||
	       (r = pc_u64(c, v, "gid", UINT32_MAX, &d->gid)));
	return r;
}

/* ---- resources ---- */

static int dev_access(struct pc *c, const char *access, unsigned *out)
{
	/* An empty string means all, as in runc. */
	*out = *access ? 0 : CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD;
	for (const char *p = access; *p; p++) {
		unsigned bit = *p == 'r'   ? CTW_DEV_READ
			       : *p == 'w' ? CTW_DEV_WRITE
			       : *p == 'm' ? CTW_DEV_MKNOD
					   : 0;
		if (!bit)
			return pc_fail_at(c, "access", "`%s`: only r, w and m", access);
		*out |= bit;
	}
	return 0;
}

static int dev_rule_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	struct ctw_spec_dev_rule *d = elem;
	struct ctw_oi64 maj = {0}, min = {0};
	char *access = NULL;
	bool allow_set = false;
	int r;
	d->type = 'a';
	d->access = CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD;
	pc_unknown(c, v, (const char *const[]){"allow", "type", "major", "minor", "access", NULL});
	r = pc_bool(c, v, "allow", &d->allow, &allow_set);
	if (!r && !allow_set)
		r = pc_fail_at(c, "allow", "required");
	(void)(r || (r = type_at(c, v, false, "acb", "a, c or b", &d->type)) ||
	       (r = pc_i64(c, v, "major", -1, UINT32_MAX, &maj)) ||
	       (r = pc_i64(c, v, "minor", -1, UINT32_MAX, &min)) ||
	       (r = pc_str(c, v, "access", &access)) ||
	       (access && (r = dev_access(c, access, &d->access))));
	d->major = maj.set ? maj.v : -1;
	d->minor = min.set ? min.v : -1;
	free(access);
	return r;
}

static int parse_memory(struct pc *c, json_t *mo, void *out)
{
	struct ctw_spec_memory *mem = out;
	int r;
	pc_unknown(c, mo,
		   (const char *const[]){"limit", "reservation", "swap", "kernel", "kernelTCP",
					 "swappiness", "disableOOMKiller", "useHierarchy",
					 "checkBeforeUpdate", NULL});
	(void)((r = pc_i64(c, mo, "limit", -1, INT64_MAX, &mem->limit)) ||
	       (r = pc_i64(c, mo, "reservation", -1, INT64_MAX, &mem->reservation)) ||
	       (r = pc_i64(c, mo, "swap", -1, INT64_MAX, &mem->swap)) ||
	       (r = pc_i64(c, mo, "kernel", -1, INT64_MAX, &mem->kernel)) ||
	       (r = pc_i64(c, mo, "kernelTCP", -1, INT64_MAX, &mem->kernel_tcp)) ||
	       (r = pc_u64(c, mo, "swappiness", 100, &mem->swappiness)) ||
	       (r = pc_bool(c, mo, "disableOOMKiller", &mem->disable_oom_killer,
			    &mem->disable_oom_killer_set)) ||
	       (r = pc_bool(c, mo, "useHierarchy", &mem->use_hierarchy, &mem->use_hierarchy_set)) ||
	       (r = pc_bool(c, mo, "checkBeforeUpdate", &mem->check_before_update, NULL)));
	return r;
}

/* "0-3,7": a cpu or node list as cpuset takes it. */
static int check_cpu_list(struct pc *c, const char *s)
{
	const char *p = s;
	while (*p) {
		unsigned long a, b;
		char *end;
		if (*p < '0' || *p > '9')
			return pc_fail(c, "`%s` is not a list like 0-3,7", s);
		a = strtoul(p, &end, 10);
		b = a;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				return pc_fail(c, "`%s` is not a list like 0-3,7", s);
			b = strtoul(p, &end, 10);
		}
		if (b < a || b > 65535)
			return pc_fail(c, "`%s`: bad range", s);
		p = end;
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			return pc_fail(c, "`%s` is not a list like 0-3,7", s);
	}
	return 0;
}

static int parse_cpu(struct pc *c, json_t *co, void *out)
{
	struct ctw_spec_cpu *cpu = out;
	int r;
	pc_unknown(c, co,
		   (const char *const[]){"shares", "quota", "burst", "period", "realtimeRuntime",
					 "realtimePeriod", "cpus", "mems", "idle", NULL});
	(void)((r = pc_u64(c, co, "shares", UINT64_MAX, &cpu->shares)) ||
	       (r = pc_i64(c, co, "quota", -1, INT64_MAX, &cpu->quota)) ||
	       (r = pc_u64(c, co, "burst", UINT64_MAX, &cpu->burst)) ||
	       (r = pc_u64(c, co, "period", UINT64_MAX, &cpu->period)) ||
	       (r = pc_i64(c, co, "realtimeRuntime", -1, INT64_MAX, &cpu->realtime_runtime)) ||
	       (r = pc_u64(c, co, "realtimePeriod", UINT64_MAX, &cpu->realtime_period)) ||
	       (r = pc_str(c, co, "cpus", &cpu->cpus)) || (r = pc_str(c, co, "mems", &cpu->mems)) ||
	       (r = pc_i64(c, co, "idle", 0, 1, &cpu->idle)) ||
	       (cpu->cpus && (r = pc_check_at(c, "cpus", check_cpu_list, cpu->cpus))) ||
	       (cpu->mems && (r = pc_check_at(c, "mems", check_cpu_list, cpu->mems))));
	return r;
}

static const char *const blkio_lists[CTW_BLKIO_MAX] = {
	[CTW_BLKIO_WEIGHT_DEVICE] = "weightDevice",
	[CTW_BLKIO_READ_BPS] = "throttleReadBpsDevice",
	[CTW_BLKIO_WRITE_BPS] = "throttleWriteBpsDevice",
	[CTW_BLKIO_READ_IOPS] = "throttleReadIOPSDevice",
	[CTW_BLKIO_WRITE_IOPS] = "throttleWriteIOPSDevice",
};

const char *spec_blkio_list_name(enum ctw_blkio_list l)
{
	return blkio_lists[l];
}

static int weight_dev_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	struct ctw_spec_blkio_dev *d = elem;
	int r;
	(void)((r = pc_req_i64(c, v, "major", 0, UINT32_MAX, &d->major)) ||
	       (r = pc_req_i64(c, v, "minor", 0, UINT32_MAX, &d->minor)) ||
	       (r = pc_u64(c, v, "weight", 10000, &d->weight)) ||
	       (r = pc_u64(c, v, "leafWeight", 10000, &d->leaf_weight)));
	return r;
}

static int throttle_dev_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	struct ctw_spec_blkio_dev *d = elem;
	int64_t rate = 0;
	int r;
	(void)((r = pc_req_i64(c, v, "major", 0, UINT32_MAX, &d->major)) ||
	       (r = pc_req_i64(c, v, "minor", 0, UINT32_MAX, &d->minor)) ||
	       (r = pc_req_i64(c, v, "rate", 0, INT64_MAX, &rate)));
	d->rate = (uint64_t)rate;
	return r;
}

static int parse_blkio(struct pc *c, json_t *bo, void *out)
{
	struct ctw_spec_blkio *b = out;
	int r;
	pc_unknown(c, bo,
		   (const char *const[]){"weight", "leafWeight", "weightDevice",
					 "throttleReadBpsDevice", "throttleWriteBpsDevice",
					 "throttleReadIOPSDevice", "throttleWriteIOPSDevice",
					 NULL});
	(void)((r = pc_u64(c, bo, "weight", 10000, &b->weight)) ||
	       (r = pc_u64(c, bo, "leafWeight", 10000, &b->leaf_weight)));
	for (int l = 0; !r && l < CTW_BLKIO_MAX; l++)
		r = pc_objects(c, bo, blkio_lists[l], sizeof(struct ctw_spec_blkio_dev),
			       (void **)&b->dev[l], &b->n_dev[l],
			       l == CTW_BLKIO_WEIGHT_DEVICE ? weight_dev_one : throttle_dev_one,
			       NULL);
	return r;
}

/* "2MB", "1GB", "64KB": what the hugetlb controller's files are named by. */
static int check_page_size(struct pc *c, const char *s)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);
	if (end == s || !n || (n & (n - 1)) ||
	    (strcmp(end, "KB") && strcmp(end, "MB") && strcmp(end, "GB")))
		return pc_fail(c, "`%s` is not a page size like 2MB or 1GB", s);
	return 0;
}

static int hugepage_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	struct ctw_spec_hugepage *h = elem;
	int64_t limit = 0;
	int r;
	(void)((r = pc_req_str(c, v, "pageSize", &h->page_size)) ||
	       (r = pc_check_at(c, "pageSize", check_page_size, h->page_size)) ||
	       (r = pc_req_i64(c, v, "limit", 0, INT64_MAX, &limit)));
	h->limit = (uint64_t)limit;
	return r;
}

/* network.priorities become interface → priority pairs. */
struct prio {
	char *name;
	int64_t priority;
};

static int prio_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	struct prio *p = elem;
	int r;
	(void)((r = pc_req_str(c, v, "name", &p->name)) ||
	       (r = pc_req_i64(c, v, "priority", 0, UINT32_MAX, &p->priority)));
	return r;
}

static int parse_network_res(struct pc *c, json_t *no, void *out)
{
	struct ctw_spec_resources *res = out;
	struct prio *prios = NULL;
	size_t n = 0;
	int r = pc_u64(c, no, "classID", UINT32_MAX, &res->net_class_id);
	if (!r)
		r = pc_objects(c, no, "priorities", sizeof(*prios), (void **)&prios, &n, prio_one,
			       NULL);
	for (size_t i = 0; i < n; i++) {
		if (!r) {
			char buf[24];
			snprintf(buf, sizeof(buf), "%lld", (long long)prios[i].priority);
			ctw_kvs_set(&res->net_priorities, prios[i].name, buf);
		}
		free(prios[i].name);
	}
	free(prios);
	return r;
}

/* unified keys are file names of the container's cgroup: "memory.high". */
static int check_unified_key(struct pc *c, const char *k)
{
	if (!*k || strchr(k, '/') || !strcmp(k, ".") || !strcmp(k, "..") || !strchr(k, '.'))
		return pc_fail(c, "not a cgroup file name (controller.knob)");
	return 0;
}

/* A sysctl name becomes a path below /proc/sys: "net.ipv4.ip_forward" or
 * "net/ipv4/ip_forward", nothing that climbs out. */
static int check_sysctl_key(struct pc *c, const char *k)
{
	bool sep = true;
	for (const char *p = k; *p; p++) {
		bool is_sep = *p == '.' || *p == '/';
		if (is_sep && sep)
			return pc_fail(c, "not a sysctl name");
		if (!is_sep && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				 (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return pc_fail(c, "not a sysctl name");
		sep = is_sep;
	}
	return sep ? pc_fail(c, "not a sysctl name") : 0;
}

/* The object at key handed to parse with the path at it. */
static int object_with(struct pc *c, json_t *o, const char *key, void *out,
		       int (*parse)(struct pc *c, json_t *obj, void *out))
{
	json_t *obj;
	int r = pc_object(c, o, key, &obj);
	if (r || !obj)
		return r;
	size_t m = pc_enter(c, key);
	r = parse(c, obj, out);
	pc_leave(c, m);
	return r;
}

static int parse_pids(struct pc *c, json_t *po, void *out)
{
	return pc_i64(c, po, "limit", INT64_MIN, INT64_MAX, out);
}

static int parse_resources(struct pc *c, json_t *ro, void *out)
{
	struct ctw_spec_resources *res = out;
	int r;
	pc_unknown(c, ro,
		   (const char *const[]){"devices", "memory", "cpu", "blockIO", "hugepageLimits",
					 "network", "pids", "rdma", "unified", NULL});
	(void)((r = pc_objects(c, ro, "devices", sizeof(*res->devices), (void **)&res->devices,
			       &res->n_devices, dev_rule_one, NULL)) ||
	       (r = object_with(c, ro, "memory", &res->memory, parse_memory)) ||
	       (r = object_with(c, ro, "cpu", &res->cpu, parse_cpu)) ||
	       (r = object_with(c, ro, "blockIO", &res->blkio, parse_blkio)) ||
	       (r = pc_objects(c, ro, "hugepageLimits", sizeof(*res->hugepages),
			       (void **)&res->hugepages, &res->n_hugepages, hugepage_one, NULL)) ||
	       (r = object_with(c, ro, "network", res, parse_network_res)) ||
	       (r = object_with(c, ro, "pids", &res->pids_limit, parse_pids)) ||
	       (r = pc_unsupported(c, ro, "rdma")) ||
	       (r = pc_kvs(c, ro, "unified", &res->unified, check_unified_key)));
	return r;
}

int spec_parse_resources(struct pc *c, json_t *ro, struct ctw_spec_resources *res)
{
	return parse_resources(c, ro, res);
}

/* ---- seccomp ---- */

static const char *const sc_actions[] = {
	[CTW_SC_KILL] = "SCMP_ACT_KILL",
	[CTW_SC_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
	[CTW_SC_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
	[CTW_SC_TRAP] = "SCMP_ACT_TRAP",
	[CTW_SC_ERRNO] = "SCMP_ACT_ERRNO",
	[CTW_SC_TRACE] = "SCMP_ACT_TRACE",
	[CTW_SC_ALLOW] = "SCMP_ACT_ALLOW",
	[CTW_SC_LOG] = "SCMP_ACT_LOG",
	[CTW_SC_NOTIFY] = "SCMP_ACT_NOTIFY",
};
static const char *const sc_ops[] = {
	[CTW_SC_NE] = "SCMP_CMP_NE",
	[CTW_SC_LT] = "SCMP_CMP_LT",
	[CTW_SC_LE] = "SCMP_CMP_LE",
	[CTW_SC_EQ] = "SCMP_CMP_EQ",
	[CTW_SC_GE] = "SCMP_CMP_GE",
	[CTW_SC_GT] = "SCMP_CMP_GT",
	[CTW_SC_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};
static const char *const sc_flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC",
	"SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};
static const char *const sc_arches[] = {
	"SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",	    "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",	   "SCMP_ARCH_MIPS64",	    "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",	    "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",	    "SCMP_ARCH_LOONGARCH64",
	"SCMP_ARCH_M68K",    "SCMP_ARCH_SH",	   "SCMP_ARCH_SHEB",
};

const char *ctw_sc_action_name(enum ctw_sc_action a)
{
	return (unsigned)a < ARRAY_SIZE(sc_actions) ? sc_actions[a] : "?";
}

const char *ctw_sc_op_name(enum ctw_sc_op op)
{
	return (unsigned)op < ARRAY_SIZE(sc_ops) ? sc_ops[op] : "?";
}

const char *spec_sc_flag_name(unsigned bit_index)
{
	return bit_index < ARRAY_SIZE(sc_flags) ? sc_flags[bit_index] : NULL;
}

static int check_arch(struct pc *c, const char *s)
{
	return lookup(sc_arches, ARRAY_SIZE(sc_arches), s) < 0
		       ? pc_fail(c, "unknown architecture %s", s)
		       : 0;
}

static int check_sc_flag(struct pc *c, const char *s)
{
	return lookup(sc_flags, ARRAY_SIZE(sc_flags), s) < 0 ? pc_fail(c, "unknown flag %s", s) : 0;
}

static int sc_arg_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	struct ctw_spec_sc_arg *arg = elem;
	int64_t idx = 0, val = 0;
	struct ctw_ou64 two = {0};
	int op = 0, r;
	(void)((r = pc_req_i64(c, v, "index", 0, 5, &idx)) ||
	       (r = pc_req_i64(c, v, "value", 0, INT64_MAX, &val)) ||
	       (r = pc_u64(c, v, "valueTwo", UINT64_MAX, &two)) ||
	       (r = name_at(c, v, "op", true, sc_ops, ARRAY_SIZE(sc_ops), "operator", &op)));
	arg->index = (unsigned)idx;
	arg->value = (uint64_t)val;
	arg->value_two = two.v;
	arg->op = (enum ctw_sc_op)op;
	return r;
}

static int sc_rule_one(struct pc *c, json_t *v, void *elem, void *ctx)
{
	struct ctw_spec_sc_rule *rule = elem;
	int act = 0, r;
	pc_unknown(c, v,
		   (const char *const[]){"names", "action", "errnoRet", "args", "comment",
					 "includes", "excludes", NULL});
	r = pc_strv(c, v, "names", &rule->names, NULL);
	if (!r && (!rule->names || !rule->names[0]))
		r = pc_fail_at(c, "names", "required (at least one system call)");
	(void)(r ||
	       (r = name_at(c, v, "action", true, sc_actions, ARRAY_SIZE(sc_actions), "action",
			    &act)) ||
	       (r = pc_u64(c, v, "errnoRet", UINT32_MAX, &rule->errno_ret)) ||
	       (r = pc_objects(c, v, "args", sizeof(*rule->args), (void **)&rule->args,
			       &rule->n_args, sc_arg_one, NULL)));
	rule->action = (enum ctw_sc_action)act;
	return r;
}

static int parse_seccomp(struct pc *c, json_t *so, void *out)
{
	struct ctw_spec_linux *l = out;
	struct ctw_spec_seccomp *sc = l->seccomp = xcalloc(1, sizeof(*sc));
	char **flags = NULL;
	int def = 0, r;
	pc_unknown(c, so,
		   (const char *const[]){"defaultAction", "defaultErrnoRet", "architectures",
					 "flags", "listenerPath", "listenerMetadata", "syscalls",
					 NULL});
	(void)((r = name_at(c, so, "defaultAction", true, sc_actions, ARRAY_SIZE(sc_actions),
			    "action", &def)) ||
	       (r = pc_u64(c, so, "defaultErrnoRet", UINT32_MAX, &sc->default_errno_ret)) ||
	       (r = pc_strv(c, so, "architectures", &sc->architectures, check_arch)) ||
	       (r = pc_strv(c, so, "flags", &flags, check_sc_flag)) ||
	       (r = pc_str(c, so, "listenerPath", &sc->listener_path)) ||
	       (sc->listener_path &&
		(r = pc_check_at(c, "listenerPath", pc_check_abs, sc->listener_path))) ||
	       (r = pc_str(c, so, "listenerMetadata", &sc->listener_metadata)) ||
	       (r = pc_objects(c, so, "syscalls", sizeof(*sc->rules), (void **)&sc->rules,
			       &sc->n_rules, sc_rule_one, NULL)));
	sc->default_action = (enum ctw_sc_action)def;
	for (char **f = flags; !r && f && *f; f++)
		sc->flags |= 1u << lookup(sc_flags, ARRAY_SIZE(sc_flags), *f);
	strv_free(flags);
	return r;
}

/* ---- the rest of linux ---- */

static const char *const propagations[] = {
	"shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable",
};
static const unsigned long propagation_flags[] = {
	MS_SHARED,	    MS_SLAVE,	       MS_PRIVATE,	    MS_UNBINDABLE,
	MS_SHARED | MS_REC, MS_SLAVE | MS_REC, MS_PRIVATE | MS_REC, MS_UNBINDABLE | MS_REC,
};

const char *spec_propagation_name(unsigned long flags)
{
	for (size_t i = 0; i < ARRAY_SIZE(propagations); i++)
		if (propagation_flags[i] == flags)
			return propagations[i];
	return NULL;
}

static int parse_personality(struct pc *c, json_t *po, void *out)
{
	struct ctw_spec_linux *l = out;
	static const char *const domains[] = {"LINUX", "LINUX32"};
	int d = 0, r;
	(void)((r = name_at(c, po, "domain", true, domains, 2, "domain", &d)) ||
	       (r = pc_unsupported(c, po, "flags")));
	l->personality = d ? PER_LINUX32 : PER_LINUX;
	l->personality_set = !r;
	return r;
}

int spec_parse_linux(struct pc *c, json_t *o, struct ctw_spec_linux *l)
{
	static const char *const known[] = {
		"namespaces",	 "uidMappings", "gidMappings",	     "timeOffsets",
		"devices",	 "cgroupsPath", "resources",	     "intelRdt",
		"sysctl",	 "seccomp",	"rootfsPropagation", "maskedPaths",
		"readonlyPaths", "mountLabel",	"personality",	     "netDevices",
		"memoryPolicy",	 NULL,
	};
	json_t *lo, *ro = NULL;
	int prop = -1;
	int r = pc_object(c, o, "linux", &lo);
	if (r || !lo)
		return r;
	size_t m = pc_enter(c, "linux");
	pc_unknown(c, lo, known);
	(void)((r = pc_objects(c, lo, "namespaces", sizeof(*l->namespaces), (void **)&l->namespaces,
			       &l->n_namespaces, ns_one, l)) ||
	       (r = pc_objects(c, lo, "uidMappings", sizeof(*l->uid_mappings),
			       (void **)&l->uid_mappings, &l->n_uid_mappings, idmap_one, NULL)) ||
	       (r = pc_objects(c, lo, "gidMappings", sizeof(*l->gid_mappings),
			       (void **)&l->gid_mappings, &l->n_gid_mappings, idmap_one, NULL)) ||
	       (r = pc_unsupported(c, lo, "timeOffsets")) ||
	       (r = pc_objects(c, lo, "devices", sizeof(*l->devices), (void **)&l->devices,
			       &l->n_devices, device_one, NULL)) ||
	       (r = pc_str(c, lo, "cgroupsPath", &l->cgroups_path)) ||
	       (r = pc_object(c, lo, "resources", &ro)) ||
	       (ro && (r = object_with(c, lo, "resources", &l->resources, parse_resources))) ||
	       (r = pc_unsupported(c, lo, "intelRdt")) ||
	       (r = pc_kvs(c, lo, "sysctl", &l->sysctl, check_sysctl_key)) ||
	       (r = object_with(c, lo, "seccomp", l, parse_seccomp)) ||
	       (r = name_at(c, lo, "rootfsPropagation", false, propagations,
			    ARRAY_SIZE(propagations), "propagation", &prop)) ||
	       (r = pc_strv(c, lo, "maskedPaths", &l->masked_paths, pc_check_abs)) ||
	       (r = pc_strv(c, lo, "readonlyPaths", &l->readonly_paths, pc_check_abs)) ||
	       (r = pc_str(c, lo, "mountLabel", &l->mount_label)) ||
	       (r = object_with(c, lo, "personality", l, parse_personality)) ||
	       (r = pc_unsupported(c, lo, "netDevices")) ||
	       (r = pc_unsupported(c, lo, "memoryPolicy")));
	l->resources_set = ro != NULL;
	if (prop >= 0)
		l->rootfs_propagation = propagation_flags[prop];
	pc_leave(c, m);
	return r;
}
