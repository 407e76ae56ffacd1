// SPDX-License-Identifier: Apache-2.0
/* The registry's index: cgroup id -> entry index, open addressing (a leaf
 * that registry.c and resources.c both use). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../lib/lib.h"

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static void idmap_grow(struct idmap *m)
{
	struct idmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 256;
	m->keys = xcalloc(m->cap, sizeof(*m->keys));
	m->vals = xcalloc(m->cap, sizeof(*m->vals));
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i])
			idmap_put(m, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
}

void idmap_put(struct idmap *m, uint64_t k, size_t v)
{
	if (!k)
		return;
	if ((m->n + 1) * 2 > m->cap)
		idmap_grow(m);
	size_t j = mix(k) & (m->cap - 1);
	while (m->keys[j] && m->keys[j] != k)
		j = (j + 1) & (m->cap - 1);
	if (!m->keys[j])
		m->n++;
	m->keys[j] = k;
	m->vals[j] = v;
}

bool idmap_get(const struct idmap *m, uint64_t k, size_t *v)
{
	if (!m->cap || !k)
		return false;
	size_t j = mix(k) & (m->cap - 1);
	while (m->keys[j]) {
		if (m->keys[j] == k) {
			*v = m->vals[j];
			return true;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return false;
}

void idmap_clear(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
