/* SPDX-License-Identifier: Apache-2.0 */
/* policy/ private helpers shared by its .c files (not a public header). */
#ifndef CTW_POL_INTERNAL_H
#define CTW_POL_INTERNAL_H

#include <yaml.h>

#include "policy.h"

/* ---- prefix.c: CIDRs, hashing and the prefix set ---- */

/* An open-addressing set of prefixes, keyed by (group, dir, family, plen,
 * address); each entry carries a rule bitmap. */
struct pfx_key {
	uint64_t group;
	uint8_t dir, family, plen, __pad;
	uint8_t addr[16];
};

struct pfx_ent {
	struct pfx_key k;
	uint64_t bits[4]; /* CTW_FW_MAX_RULES == 256 */
	bool used;
};

struct pfxset {
	struct pfx_ent *tab;
	size_t cap, n;
};

void pfxset_init(struct pfxset *s, size_t hint);
void pfxset_fini(struct pfxset *s);
struct pfx_ent *pfxset_get(struct pfxset *s, const struct pfx_key *k, bool create);
/* Zero the address bits past plen. */
void pfx_mask(uint8_t *addr, int family, int plen);

bool pol_cidr_contains(const struct ctw_pol_cidr *outer, const struct ctw_pol_cidr *inner);
uint64_t pol_fnv1a(const void *data, size_t len);
void pol_format_cidr(const struct ctw_pol_cidr *c, char *buf, size_t size);

/* ---- parse.c ---- */
/* Compact text of a rule's match, for `policy show`. */
void pol_rule_summary(const struct ctw_pol_rule *r, char *buf, size_t size);
/* The name of the container behind a cgroup id (host registry), or NULL. */
const char *pol_container_name(uint64_t cgid);

/* ---- strmap.c: strings -> numbers (keys are copied) ---- */
struct pol_strmap_ent {
	char *key; /* NULL: a free slot */
	size_t val;
};
struct pol_strmap {
	struct pol_strmap_ent *tab;
	size_t cap, n;
};
/* The value of key; created (0) when create, else NULL when absent. */
size_t *pol_strmap_get(struct pol_strmap *m, const char *key, bool create);
void pol_strmap_fini(struct pol_strmap *m);

/* ---- yaml_load.c: the text of a policy, within bounds ---- */
struct pol_load_error {
	int line, col; /* 1-based */
	char msg[200];
};
/* UTF-8 without NUL or control characters, at most max_bytes: 0, or -EINVAL
 * with the first problem's position in *e. */
int pol_text_check(const char *text, size_t len, size_t max_bytes, struct pol_load_error *e);
/* Load the one YAML document of text into doc (no nodes when the text is
 * empty) within the limits of policy.h: 0, or -EINVAL / -ENOMEM with the
 * problem in *e (doc then holds nothing to free). */
int pol_yaml_load(const char *text, size_t len, yaml_document_t *doc, struct pol_load_error *e);

#endif /* CTW_POL_INTERNAL_H */
