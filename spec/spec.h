/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec/ — the OCI runtime spec (runtime-spec 1.0 to 1.2, Linux): the
 * in-memory model of a container's config.json, its parser, its writer, the
 * default config `spec` writes, and the OCI state and features documents.
 * Pure: no system call but reading the file the caller names.  The runtime
 * (runtime/) builds a spec from `ctrwatch run`'s image and flags or reads
 * one from a bundle, and executes it.
 *
 * Parsing follows the spec's rules: unknown properties are ignored (debug
 * log; "Runtimes MUST ignore unknown properties"), invalid or unsupported
 * values are errors naming the field and why:
 *   config.json: linux.resources.memory.limit: not a number
 *   config.json: process.capabilities.bounding[3]: unknown capability CAP_FOO
 *   config.json:12:7: invalid JSON: ...
 *
 * Conventions: strings are owned (char *), NULL when absent; string lists
 * are NULL-terminated vectors (NULL when absent); arrays are (v, n);
 * optional numbers carry .set.  Fields marked "ctrwatch" are never read from
 * or written to config.json: `ctrwatch run` sets them.
 */
#ifndef CTW_SPEC_H
#define CTW_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/lib.h"

/* GNU C predefines `linux` as 1 (an old spelling of __linux__): the spec's
 * section is called linux, and so is the field holding it. */
#undef linux

/* The version we write (spec, state) and the newest we read. */
#define CTW_OCI_VERSION "1.1.0"

struct ctw_oi64 {
	int64_t v;
	bool set;
};
struct ctw_ou64 {
	uint64_t v;
	bool set;
};

struct ctw_kv {
	char *key, *value;
};
struct ctw_kvs {
	struct ctw_kv *v;
	size_t n;
};
/* The value of key, or NULL. */
const char *ctw_kvs_get(const struct ctw_kvs *kvs, const char *key);
/* Set key (replacing its value); copies both. */
void ctw_kvs_set(struct ctw_kvs *kvs, const char *key, const char *value);
void ctw_kvs_fini(struct ctw_kvs *kvs);

/* ---- process ---- */

enum ctw_capset {
	CTW_CAPS_BOUNDING,
	CTW_CAPS_EFFECTIVE,
	CTW_CAPS_INHERITABLE,
	CTW_CAPS_PERMITTED,
	CTW_CAPS_AMBIENT,
	CTW_CAPS_MAX,
};

/* "RLIMIT_NOFILE" for RLIMIT_NOFILE; NULL for a type the spec does not name. */
const char *ctw_spec_rlimit_name(int type);

struct ctw_spec_rlimit {
	int type; /* RLIMIT_* */
	uint64_t soft, hard;
};

struct ctw_spec_user {
	uint32_t uid, gid;
	struct ctw_ou64 umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	/* ctrwatch: USER[:GROUP] (names or ids) resolved in the container's
	 * /etc/passwd and /etc/group at start, instead of uid/gid (NULL: the
	 * numbers rule).  In config.json: user.username without uid/gid. */
	char *resolve;
};

struct ctw_spec_process {
	bool terminal;
	struct ctw_ou64 console_height, console_width;
	struct ctw_spec_user user;
	char **args;
	char **env;
	char *cwd;
	bool caps_set;		     /* capabilities present (else: none at all) */
	uint64_t caps[CTW_CAPS_MAX]; /* bit masks of CAP_* */
	struct ctw_spec_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	char *selinux_label;
	struct ctw_oi64 oom_score_adj;
	/* ioPriority: class IOPRIO_CLASS_* (1 rt, 2 be, 3 idle), 0 = unset */
	int io_class;
	int io_priority;
};

/* ---- root, mounts, hooks ---- */

struct ctw_spec_root {
	char *path; /* relative: to the bundle */
	bool readonly;
	/* ctrwatch: an overlay of these layers ("top:...:bottom") mounted on
	 * path in the container's mount namespace (upper/work: per container;
	 * volatile: no sync at unmount, for containers removed at exit). */
	char *overlay_lower, *overlay_upper, *overlay_work;
	bool overlay_volatile;
};

struct ctw_spec_mount {
	char *destination; /* absolute, in the container */
	char *type;	   /* NULL: a bind mount when options say so */
	char *source;
	char **options;
};

enum ctw_hook_kind {
	CTW_HOOK_PRESTART,
	CTW_HOOK_CREATE_RUNTIME,
	CTW_HOOK_CREATE_CONTAINER,
	CTW_HOOK_START_CONTAINER,
	CTW_HOOK_POSTSTART,
	CTW_HOOK_POSTSTOP,
	CTW_HOOK_MAX,
};

struct ctw_spec_hook {
	char *path; /* absolute */
	char **args;
	char **env;
	struct ctw_ou64 timeout; /* seconds, > 0 */
};

struct ctw_spec_hooks {
	struct ctw_spec_hook *v;
	size_t n;
};

/* "prestart", "createRuntime", ... */
const char *ctw_hook_kind_name(enum ctw_hook_kind k);

/* ---- linux ---- */

enum ctw_ns_type {
	CTW_NS_PID,
	CTW_NS_NETWORK,
	CTW_NS_MOUNT,
	CTW_NS_IPC,
	CTW_NS_UTS,
	CTW_NS_USER,
	CTW_NS_CGROUP,
	CTW_NS_TIME,
	CTW_NS_MAX,
};

struct ctw_spec_ns {
	enum ctw_ns_type type;
	char *path; /* join this one; NULL: a new one */
};

/* The spec's name ("network") and the CLONE_NEW* flag of a type. */
const char *ctw_ns_name(enum ctw_ns_type t);
int ctw_ns_flag(enum ctw_ns_type t);

struct ctw_spec_idmap {
	uint32_t container_id, host_id, size;
};

struct ctw_spec_device {
	char type; /* 'c', 'b', 'u' (unbuffered char), 'p' (fifo) */
	char *path;
	int64_t major, minor;
	struct ctw_ou64 file_mode; /* permission bits */
	struct ctw_ou64 uid, gid;
};

/* resources.devices: the cgroup device allowlist, the last matching rule
 * wins. */
/* (the values of the kernel's BPF_DEVCG_ACC_*) */
enum { CTW_DEV_MKNOD = 1, CTW_DEV_READ = 2, CTW_DEV_WRITE = 4 };
struct ctw_spec_dev_rule {
	bool allow;
	char type;	      /* 'a' (all), 'c', 'b' */
	int64_t major, minor; /* -1: any */
	unsigned access;      /* CTW_DEV_* bits */
};

struct ctw_spec_memory {
	struct ctw_oi64 limit, reservation, swap, kernel, kernel_tcp;
	struct ctw_ou64 swappiness;
	bool disable_oom_killer_set, disable_oom_killer;
	bool use_hierarchy_set, use_hierarchy;
	bool check_before_update;
};

struct ctw_spec_cpu {
	struct ctw_ou64 shares, period, realtime_period, burst;
	struct ctw_oi64 quota, realtime_runtime, idle;
	char *cpus, *mems; /* "0-3,7" */
};

struct ctw_spec_blkio_dev {
	int64_t major, minor;
	struct ctw_ou64 weight, leaf_weight; /* weightDevice */
	uint64_t rate;			     /* throttle*Device */
};

enum ctw_blkio_list {
	CTW_BLKIO_WEIGHT_DEVICE,
	CTW_BLKIO_READ_BPS,
	CTW_BLKIO_WRITE_BPS,
	CTW_BLKIO_READ_IOPS,
	CTW_BLKIO_WRITE_IOPS,
	CTW_BLKIO_MAX,
};

struct ctw_spec_blkio {
	struct ctw_ou64 weight, leaf_weight;
	struct ctw_spec_blkio_dev *dev[CTW_BLKIO_MAX];
	size_t n_dev[CTW_BLKIO_MAX];
};

struct ctw_spec_hugepage {
	char *page_size; /* "2MB", "1GB" */
	uint64_t limit;
};

struct ctw_spec_resources {
	struct ctw_spec_dev_rule *devices;
	size_t n_devices;
	struct ctw_spec_memory memory;
	struct ctw_spec_cpu cpu;
	struct ctw_oi64 pids_limit;
	struct ctw_spec_blkio blkio;
	struct ctw_spec_hugepage *hugepages;
	size_t n_hugepages;
	struct ctw_ou64 net_class_id;
	struct ctw_kvs net_priorities; /* interface → priority (decimal) */
	struct ctw_kvs unified;	       /* cgroup v2 file → value */
};

enum ctw_sc_action {
	CTW_SC_KILL,
	CTW_SC_KILL_PROCESS,
	CTW_SC_KILL_THREAD,
	CTW_SC_TRAP,
	CTW_SC_ERRNO,
	CTW_SC_TRACE,
	CTW_SC_ALLOW,
	CTW_SC_LOG,
	CTW_SC_NOTIFY,
};
enum ctw_sc_op {
	CTW_SC_NE,
	CTW_SC_LT,
	CTW_SC_LE,
	CTW_SC_EQ,
	CTW_SC_GE,
	CTW_SC_GT,
	CTW_SC_MASKED_EQ,
};
enum {
	CTW_SC_FLAG_TSYNC = 1,
	CTW_SC_FLAG_LOG = 2,
	CTW_SC_FLAG_SPEC_ALLOW = 4,
	CTW_SC_FLAG_WAIT_KILLABLE_RECV = 8,
};

struct ctw_spec_sc_arg {
	unsigned index; /* 0..5 */
	uint64_t value, value_two;
	enum ctw_sc_op op;
};

struct ctw_spec_sc_rule {
	char **names;
	enum ctw_sc_action action;
	struct ctw_ou64 errno_ret;
	struct ctw_spec_sc_arg *args;
	size_t n_args;
};

struct ctw_spec_seccomp {
	enum ctw_sc_action default_action;
	struct ctw_ou64 default_errno_ret;
	char **architectures; /* "SCMP_ARCH_X86_64", ... */
	unsigned flags;	      /* CTW_SC_FLAG_* */
	char *listener_path, *listener_metadata;
	struct ctw_spec_sc_rule *rules;
	size_t n_rules;
};

const char *ctw_sc_action_name(enum ctw_sc_action a);
const char *ctw_sc_op_name(enum ctw_sc_op op);

struct ctw_spec_linux {
	struct ctw_spec_ns *namespaces;
	size_t n_namespaces;
	struct ctw_spec_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct ctw_spec_device *devices;
	size_t n_devices;
	char *cgroups_path;
	bool resources_set;
	struct ctw_spec_resources resources;
	struct ctw_kvs sysctl;
	struct ctw_spec_seccomp *seccomp; /* NULL: none */
	unsigned long rootfs_propagation; /* MS_SHARED|MS_REC, ...; 0 = default */
	char **masked_paths;
	char **readonly_paths;
	char *mount_label;
	bool personality_set;
	unsigned long personality; /* PER_LINUX or PER_LINUX32 */
};

struct ctw_spec {
	char *oci_version;
	struct ctw_spec_process *process; /* NULL: none (create only) */
	struct ctw_spec_root root;
	char *hostname;
	char *domainname;
	struct ctw_spec_mount *mounts;
	size_t n_mounts;
	struct ctw_spec_hooks hooks[CTW_HOOK_MAX];
	struct ctw_kvs annotations;
	struct ctw_spec_linux linux;
};

/* ---- lifetime ---- */

struct ctw_spec *ctw_spec_new(void);
void ctw_spec_free(struct ctw_spec *s);
void ctw_spec_process_free(struct ctw_spec_process *p);
void ctw_spec_seccomp_free(struct ctw_spec_seccomp *sc);
void ctw_spec_resources_fini(struct ctw_spec_resources *r);
/* The namespace entry of type t, or NULL when the spec has none. */
const struct ctw_spec_ns *ctw_spec_ns_get(const struct ctw_spec *s, enum ctw_ns_type t);

/* ---- parsing and writing config.json ---- */

/* Parse config.json text; name ("config.json") prefixes every message.
 * 0 and *out, or -EINVAL with err naming the field. */
int ctw_spec_parse(const char *name, const char *text, size_t len, struct ctw_spec **out,
		   struct ctw_err *err);
/* Read and parse a file (at most 16 MiB). */
int ctw_spec_load(const char *path, struct ctw_spec **out, struct ctw_err *err);
/* Parse a process object alone (`exec --process FILE`); name prefixes the
 * messages.  Its fields are checked as config.json's "process" is. */
int ctw_spec_process_parse(const char *name, const char *text, size_t len,
			   struct ctw_spec_process **out, struct ctw_err *err);
/* Parse a resources object alone (`update --resources FILE`). */
int ctw_spec_resources_parse(const char *name, const char *text, size_t len,
			     struct ctw_spec_resources *out, struct ctw_err *err);
/* The JSON text of a spec (pretty: indented), as config.json; caller frees.
 * Fields marked "ctrwatch" are not written.  Parsing it gives the same
 * spec. */
char *ctw_spec_to_json(const struct ctw_spec *s, bool pretty);

/* The config.json `spec` writes: runc's default (busybox sh, a terminal,
 * the usual mounts and masks, no network); rootless: a user namespace
 * mapping uid/gid to the caller's. */
struct ctw_spec *ctw_spec_default(bool rootless, uint32_t uid, uint32_t gid);

/* Capability names as the spec writes them ("CAP_CHOWN"); -EINVAL for an
 * unknown one. */
int ctw_spec_cap_from_name(const char *name);

/* ---- cgroupsPath ----
 * "/a/b": absolute in each hierarchy; "a/b": below the runtime's own cgroup;
 * "slice:prefix:name" (systemd): the slice expanded as systemd does
 * ("a-b.slice" → "/a.slice/a-b.slice"), then "prefix-name.scope" (or name
 * itself when it ends in ".slice"); NULL or "": default_rel.  Out: an
 * absolute path ("/..."), or a relative one below the runtime's cgroup.
 * -EINVAL with err on a bad form ("..", a bad slice name). */
int ctw_spec_cgroups_path(const char *cgroups_path, const char *default_rel, char *out, size_t size,
			  struct ctw_err *err);

/* ---- the OCI state ---- */

enum ctw_oci_status {
	CTW_OCI_CREATING,
	CTW_OCI_CREATED,
	CTW_OCI_RUNNING,
	CTW_OCI_STOPPED,
	CTW_OCI_PAUSED,
};
const char *ctw_oci_status_name(enum ctw_oci_status s);

struct ctw_oci_state {
	const char *id;
	enum ctw_oci_status status;
	int pid; /* 0: none (stopped) */
	const char *bundle;
	const struct ctw_kvs *annotations;
	/* What `state` adds, as runc does (NULL / 0: left out, as for hooks) */
	const char *rootfs;
	uint64_t created_ns;
	const char *owner;
};
/* {"ociVersion", "id", "status", "pid", "bundle", "annotations"} and the
 * extras that are set: what hooks read on stdin and `state` prints. */
char *ctw_oci_state_json(const struct ctw_oci_state *st, bool pretty);

/* The features document (runtime-spec features.md) of what ctrwatch
 * implements. */
char *ctw_spec_features_json(void);

#endif /* CTW_SPEC_H */
