// SPDX-License-Identifier: Apache-2.0
/*
 * A container's environment, built from the defaults, the image's Env, the
 * runtime's own variables and -e: "K=V" strings where a later K replaces an
 * earlier one in its place.  The keys are kept in a hash table, so that
 * building it is O(n): the image controls its Env, and 100 000 entries made
 * the former linear search of every insert spin for minutes.  At most
 * CTW_ENV_MAX variables (runtime.h), an error past that.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq ? (size_t)(eq - kv) : strlen(kv);
}

static uint64_t key_hash(const char *kv, size_t kl)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < kl; i++) {
		h ^= (unsigned char)kv[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* The slot holding key kv (its index + 1), or the empty one it would go to. */
static size_t *find_slot(const struct envb *e, const char *kv, size_t kl)
{
	size_t mask = e->nslots - 1;
	for (size_t i = (size_t)key_hash(kv, kl) & mask;; i = (i + 1) & mask) {
		size_t *s = &e->slot[i];
		if (!*s)
			return s;
		const char *o = e->v[*s - 1];
		if (!strncmp(o, kv, kl) && (o[kl] == '=' || o[kl] == '\0'))
			return s;
	}
}

static void rehash(struct envb *e, size_t nslots)
{
	free(e->slot);
	e->nslots = nslots;
	e->slot = xcalloc(nslots, sizeof(size_t));
	for (size_t i = 0; i < e->n; i++)
		*find_slot(e, e->v[i], key_len(e->v[i])) = i + 1;
}

void envb_init(struct envb *e)
{
	memset(e, 0, sizeof(*e));
}

int envb_set(struct envb *e, const char *kv, struct ctw_err *err)
{
	size_t kl = key_len(kv);
	if (!e->nslots)
		rehash(e, 64);
	size_t *s = find_slot(e, kv, kl);
	if (*s) {
		free(e->v[*s - 1]);
		e->v[*s - 1] = xstrdup(kv);
		return 0;
	}
	if (e->n >= CTW_ENV_MAX)
		return ctw_err_setx(
			err, E2BIG,
			"the environment has more than %d variables (the image's Env and "
			"-e together)",
			CTW_ENV_MAX);
	if (e->n + 2 > e->cap) {
		e->cap = e->cap ? e->cap * 2 : 32;
		e->v = xrealloc(e->v, e->cap * sizeof(char *));
	}
	e->v[e->n++] = xstrdup(kv);
	e->v[e->n] = NULL;
	*s = e->n;
	if (e->n * 2 > e->nslots)
		rehash(e, e->nslots * 2);
	return 0;
}

char **envb_steal(struct envb *e)
{
	char **v = e->v ? e->v : xcalloc(1, sizeof(char *));
	free(e->slot);
	memset(e, 0, sizeof(*e));
	return v;
}

void envb_fini(struct envb *e)
{
	ctw_strv_free(envb_steal(e));
}
