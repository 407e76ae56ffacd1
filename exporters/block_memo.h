/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exporters/ internal: what the metrics builder remembers of a build's
 * stamped blocks (ctw_metrics_block_stamped), so the next build can leave
 * out those that did not change: each block's id, stamp, text hash and
 * length, and the hashes of its series (a block left out still takes part
 * in the duplicate check and the cap).
 */
#ifndef CTW_EXPORTERS_BLOCK_MEMO_H
#define CTW_EXPORTERS_BLOCK_MEMO_H

#include <stddef.h>
#include <stdint.h>

struct block_rec {   /* 40 bytes */
	uint64_t id; /* 0: empty slot */
	uint64_t stamp;
	uint64_t hash;	/* XXH3-64 of its text */
	uint32_t len;	/* of its text (a block over 4 GiB is never remembered) */
	uint32_t first; /* its series hashes: series[first, first + n) */
	uint32_t n;
	uint32_t lines; /* what its series count for the cap (a histogram's lines) */
};

struct block_memo {
	struct block_rec *slots; /* open addressing by id */
	size_t cap, n;
	uint64_t *series;
	size_t nseries, capseries;
};

/* Empty it, keeping its memory. */
void block_memo_clear(struct block_memo *b);
void block_memo_free(struct block_memo *b);
const struct block_rec *block_memo_find(const struct block_memo *b, uint64_t id);
/* A record (its series already pushed: series[first, first + n)); a
 * second record with an id already there is dropped. */
void block_memo_add(struct block_memo *b, const struct block_rec *r);
void block_memo_push_series(struct block_memo *b, uint64_t h);

#endif
