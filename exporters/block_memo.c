// SPDX-License-Identifier: Apache-2.0
/*
 * The builder's memory of a build's stamped blocks (block_memo.h).  At
 * 1 000 containers: ~3 000 records and ~40 000 series hashes, ~0.4 MB.
 */
#include <stdlib.h>
#include <string.h>

#include "block_memo.h"
#include "../lib/lib.h"

void block_memo_clear(struct block_memo *b)
{
	if (b->n)
		memset(b->slots, 0, b->cap * sizeof(*b->slots));
	b->n = 0;
	b->nseries = 0;
}

void block_memo_free(struct block_memo *b)
{
	free(b->slots);
	free(b->series);
	*b = (struct block_memo){0};
}

static size_t slot_of(uint64_t id, size_t cap)
{
	return (size_t)(id ^ (id >> 29)) & (cap - 1);
}

const struct block_rec *block_memo_find(const struct block_memo *b, uint64_t id)
{
	if (!b->n || !id)
		return NULL;
	for (size_t j = slot_of(id, b->cap);; j = (j + 1) & (b->cap - 1)) {
		if (!b->slots[j].id)
			return NULL;
		if (b->slots[j].id == id)
			return &b->slots[j];
	}
}

static void put(struct block_rec *slots, size_t cap, const struct block_rec *r)
{
	size_t j = slot_of(r->id, cap);
	while (slots[j].id)
		j = (j + 1) & (cap - 1);
	slots[j] = *r;
}

void block_memo_add(struct block_memo *b, const struct block_rec *r)
{
	if (!r->id || block_memo_find(b, r->id))
		return;
	if ((b->n + 1) * 4 > b->cap * 3) { /* filled to 3/4 */
		size_t ncap = b->cap ? b->cap * 2 : 256;
		struct block_rec *ns = xcalloc(ncap, sizeof(*ns));
		for (size_t i = 0; i < b->cap; i++)
			if (b->slots[i].id)
				put(ns, ncap, &b->slots[i]);
		free(b->slots);
		b->slots = ns;
		b->cap = ncap;
	}
	put(b->slots, b->cap, r);
	b->n++;
}

void block_memo_push_series(struct block_memo *b, uint64_t h)
{
	if (b->nseries == b->capseries) {
		b->capseries = b->capseries ? b->capseries + b->capseries / 2 : 1024;
		b->series = xrealloc(b->series, b->capseries * sizeof(*b->series));
	}
	b->series[b->nseries++] = h;
}
