/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/ — network policy: the YAML file (libyaml), its validation, its
 * compilation into the contents of the firewall maps (bpf/xdp_fw.h,
 * bpf/cgroup_fw.h), and applying it to the pinned maps and links under
 * ctw_pin_dir()/policy, atomically (slot flip).
 *
 * Semantics, in one paragraph: rules are judged in file order and the first
 * rule whose scope, addresses, protocol and ports match a packet decides.
 * `interfaces:` rules run in XDP on those interfaces (ingress; source
 * address).  `containers:` rules run on the selected containers' cgroups
 * (egress: destination address; ingress: source address).  `ports` is the
 * packet's destination port, `src_ports` its source port.  A packet no rule
 * matches gets its scope's default (allow unless the file says otherwise).
 * A later rule whose every packet an earlier rule with the other action
 * already takes is contradictory and rejected.
 *
 * DNS rules (container egress): `deny` drops the container's queries for
 * those names in the kernel (its send() fails with EPERM).  `allow` with
 * `default: {egress: deny}` is allow-list mode: the kernel learns the A/AAAA
 * answers to queries for allowed names and lets the container reach those
 * addresses until the records' TTL runs out (bpf/cgroup_fw.h).
 */
#ifndef CTW_POLICY_H
#define CTW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/lib.h"

enum ctw_pol_action { CTW_POL_ALLOW = 0, CTW_POL_DENY = 1 };
enum ctw_pol_scope { CTW_POL_SCOPE_XDP = 0, CTW_POL_SCOPE_CONTAINER = 1 };
enum ctw_pol_dir { CTW_POL_INGRESS = 0, CTW_POL_EGRESS = 1 };

/* A source position: 1-based line and column. */
struct ctw_pol_pos {
	int line, col;
};

struct ctw_pol_cidr {
	uint8_t family; /* AF_INET / AF_INET6 */
	uint8_t plen;
	uint8_t addr[16]; /* network byte order, host bits zero */
	struct ctw_pol_pos pos;
};

struct ctw_pol_range {
	uint16_t lo, hi;
};

/* Container selector: every field set must match (AND). */
struct ctw_pol_selector {
	char *name;	  /* glob on the container name */
	char *id;	  /* container id prefix */
	char *pod;	  /* glob on the pod name */
	char *namespace_; /* glob on the pod namespace */
	char *cgroup;	  /* a v2 cgroup path (absolute or below the mount) */
	char **labels;	  /* "key=value" pairs */
	size_t n_labels;
};

struct ctw_pol_rule {
	char *name;
	struct ctw_pol_pos pos; /* the rule's mapping */
	enum ctw_pol_action action;
	enum ctw_pol_scope scope;
	enum ctw_pol_dir dir;
	char **ifaces;
	size_t n_ifaces;
	struct ctw_pol_selector sel;
	struct ctw_pol_cidr *cidrs; /* none: any address */
	size_t n_cidrs;
	uint8_t proto; /* IPPROTO_TCP/UDP, 1 = icmp (both), 0 = any */
	bool icmp;
	struct ctw_pol_range dports[8];
	size_t n_dports;
	struct ctw_pol_range sports[8];
	size_t n_sports;
	char **dns; /* lower-case; "*.x" = strictly below x */
	size_t n_dns;
};

struct ctw_policy {
	char *path;    /* for messages */
	uint64_t hash; /* FNV-1a of the text */
	enum ctw_pol_action def_xdp, def_egress, def_ingress;
	struct ctw_pol_rule *rules;
	size_t n_rules;
};

/* Bounds on a policy file, checked while it is read (policy/yaml_load.c), so
 * that no file stalls the agent or takes its memory: the size of the text,
 * YAML nesting, YAML nodes (an alias counts the nodes it stands for) and
 * rules (the kernel's CTW_FW_MAX_RULES, 256). */
#define CTW_POL_MAX_BYTES (4u << 20)
#define CTW_POL_MAX_DEPTH 32
#define CTW_POL_MAX_NODES (1 << 18) /* 262144: 100 000 CIDRs fit */
#define CTW_POL_MAX_LABELS 64	    /* per selector: a container keeps no more */

/* Diagnostics: every problem as "FILE:LINE:COL: message". */
struct ctw_pol_diags {
	char **msgs;
	size_t n;
	size_t n_errors;
};
void ctw_pol_diags_fini(struct ctw_pol_diags *d);
void ctw_pol_diags_print(const struct ctw_pol_diags *d, FILE *out);

/* Parse and validate.  Returns 0 with *out set, or -EINVAL when the file
 * has errors (all of them in d; a file past one of the bounds above stops
 * there, with that one error), or another -errno.  `path` names the text in
 * messages.  Checks are O(n log n) in the size of the file. */
int ctw_policy_parse(const char *path, const char *text, size_t len, struct ctw_policy **out,
		     struct ctw_pol_diags *d);
/* Read the file (at most CTW_POL_MAX_BYTES of it) and parse it. */
int ctw_policy_load(const char *path, struct ctw_policy **out, struct ctw_pol_diags *d);
void ctw_policy_free(struct ctw_policy *p);
/* Write the policy back as YAML (what `add`/`del` store). */
void ctw_policy_write_yaml(const struct ctw_policy *p, FILE *out);

/* Match a name against a policy DNS pattern ("x.y" or "*.x.y"). */
bool ctw_pol_dns_match(const char *pattern, const char *name);
/* The kernel's suffix hash of a dotted name (see bpf/cgroup_fw.h). */
uint64_t ctw_pol_dns_hash(const char *name);
int ctw_pol_parse_cidr(const char *s, struct ctw_pol_cidr *out, char *why, size_t whylen);

/* ---- compiling ---- */

/* How selectors and interface names become kernel ids. */
struct ctw_pol_resolver {
	int (*ifindex)(void *ctx, const char *ifname, uint32_t *out);
	/* Call add(actx, cgroup_id, cgroup_path) for every container the
	 * selector matches; returns the number found or -errno. */
	int (*containers)(void *ctx, const struct ctw_pol_selector *sel,
			  void (*add)(void *actx, uint64_t cgid, const char *path), void *actx);
	void *ctx;
};

/* The cgroups a selector selected, as a resolver reports them. */
struct ctw_pol_cglist {
	uint64_t *ids;
	char **paths;
	size_t n;
};
/* Append (a resolver's `add` callback: actx is the list). */
void ctw_pol_cglist_add(void *list, uint64_t cgid, const char *path);
void ctw_pol_cglist_fini(struct ctw_pol_cglist *l);

/* The host's resolver: if_nametoindex(), the agent registry when linked in,
 * and cgroup paths.  `registry` may be NULL (the resolver makes one). */
struct ctw_registry;
struct ctw_container;
/* Does the container carry every label of the selector (values are globs)? */
bool ctw_pol_labels_match(const struct ctw_pol_selector *sel, const struct ctw_container *c);
void ctw_pol_resolver_default(struct ctw_pol_resolver *r, struct ctw_registry *registry);

struct ctw_pol_lpm_entry {
	uint64_t cgid; /* 0 for XDP */
	uint8_t dir;   /* enum ctw_pol_dir (containers) */
	uint8_t family;
	uint8_t plen;
	uint8_t scope;
	uint8_t addr[16];
	uint16_t n;
	uint16_t ids[15];
};

struct ctw_pol_dns_entry {
	uint64_t cgid;
	uint64_t hash;
	uint16_t exact_rule, wild_rule;
	uint8_t flags;
};

struct ctw_pol_iface {
	char name[16];
	uint32_t ifindex;
};

struct ctw_pol_cgroup {
	uint64_t cgid;
	char *path;
};

struct ctw_pol_compiled {
	size_t n_rules;
	void *rules; /* struct ctw_fw_rule[n_rules] */
	void *meta;  /* struct ctw_fw_meta[n_rules] */
	struct ctw_pol_lpm_entry *lpm;
	size_t n_lpm;
	struct ctw_pol_dns_entry *dns;
	size_t n_dns;
	struct ctw_pol_iface *ifaces; /* where XDP goes */
	size_t n_ifaces;
	struct ctw_pol_cgroup *cgroups; /* where cgroup_skb goes */
	size_t n_cgroups;
	uint8_t def_xdp, def_egress, def_ingress;
	uint64_t hash;
	char source[256];
	size_t *rule_matches; /* containers each rule selected */
};

int ctw_policy_compile(const struct ctw_policy *p, const struct ctw_pol_resolver *r,
		       struct ctw_pol_compiled **out, struct ctw_err *err);
void ctw_pol_compiled_free(struct ctw_pol_compiled *c);

/* ---- the kernel ---- */

/* Compile with `r` (NULL: the default resolver) and swap the result in:
 * maps and links pinned under ctw_pin_dir()/policy.  Enforcement keeps
 * running after the caller exits. */
int ctw_policy_apply(const struct ctw_policy *p, const struct ctw_pol_resolver *r,
		     struct ctw_err *err);
/* Remove every policy map and link (enforcement stops). */
int ctw_policy_flush(struct ctw_err *err);
/* True when a policy is pinned. */
bool ctw_policy_active(void);
/* Hash of the policy text currently enforced (0 when none). */
uint64_t ctw_policy_active_hash(void);

struct ctw_pol_stat {
	char name[64];
	uint8_t action, scope, dir;
	bool is_default; /* the "default" pseudo-rules */
	uint64_t packets, bytes;
};
/* Counters of the enforced policy, rules then defaults.  Caller frees. */
int ctw_policy_read_stats(struct ctw_pol_stat **out, size_t *n, struct ctw_err *err);

int ctw_policy_show(FILE *out, bool json, struct ctw_err *err);
int ctw_policy_print_stats(FILE *out, bool json, struct ctw_err *err);

/* Where the enforced policy's text is kept for `add`/`del`:
 * ctw_state_dir()/policy/active.yaml (caller frees). */
char *ctw_policy_state_path(void);

#endif /* CTW_POLICY_H */
