// SPDX-License-Identifier: Apache-2.0
/*
 * A map of strings to numbers (open addressing, FNV-1a), for what policy
 * checks look up by name: YAML anchors, DNS patterns.  A policy file is
 * input, so its names are counted in the hundred thousands, never compared
 * each with each.
 */
#include <string.h>

#include "pol_internal.h"

static struct pol_strmap_ent *slot(const struct pol_strmap *m, const char *key)
{
	size_t i = pol_fnv1a(key, strlen(key)) & (m->cap - 1);
	while (m->tab[i].key && strcmp(m->tab[i].key, key))
		i = (i + 1) & (m->cap - 1);
	return &m->tab[i];
}

size_t *pol_strmap_get(struct pol_strmap *m, const char *key, bool create)
{
	if (!create && !m->n)
		return NULL;
	if (create && (m->n + 1) * 2 > m->cap) {
		struct pol_strmap big = {.cap = m->cap ? m->cap * 2 : 16, .n = m->n};
		big.tab = xcalloc(big.cap, sizeof(*big.tab));
		for (size_t i = 0; i < m->cap; i++)
			if (m->tab[i].key)
				*slot(&big, m->tab[i].key) = m->tab[i];
		free(m->tab);
		*m = big;
	}
	struct pol_strmap_ent *e = slot(m, key);
	if (!e->key) {
		if (!create)
			return NULL;
		e->key = xstrdup(key);
		e->val = 0;
		m->n++;
	}
	return &e->val;
}

void pol_strmap_fini(struct pol_strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->tab[i].key);
	free(m->tab);
	memset(m, 0, sizeof(*m));
}
