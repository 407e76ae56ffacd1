/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which gzip the next scrape gets: one of the gzip cache's units
 * (ctw_gzcache, and a gzip-only build) or one deflate of the whole text
 * (gzstream.c).  Units pay only when most of the text is as it was:
 * compressing every unit alone costs 1.2-2x one deflate of the whole text
 * (tests/bench/scrape-bench.sh).
 *
 * Units while the last unit gzip reused at least as many units as it
 * compressed.  One that did not, after one that did, is followed by
 * another unit gzip at once (a scrape after a pause finds more changed
 * than the next will: that one decides); then whole-text gzips, 1, 2, 4,
 * then 8 of them, before units are tried again.  Before any unit gzip
 * paid (the agent's start), a miss waits 8 at once: a text that changes
 * everywhere at every scrape (100 busy containers) never pays, and each
 * try costs it up to twice a whole-text gzip.  A unit gzip after
 * whole-text ones finds old units, so what it reuses says little: it is
 * taken as paying, and the one after it decides.
 */
#ifndef CTW_EXPORTERS_GZ_CHOICE_H
#define CTW_EXPORTERS_GZ_CHOICE_H

#include <stdbool.h>
#include <stddef.h>

struct gz_choice {
	bool pay;	      /* units for the next gzip */
	bool fresh;	      /* the cache holds the units of the last gzip */
	unsigned int wait;    /* whole-text gzips to make before units again */
	unsigned int backoff; /* the next wait: 0 (units just paid), 1, 2, 4, 8 */
};

#define GZ_CHOICE_MAX_WAIT 8u
#define GZ_CHOICE_INIT ((struct gz_choice){.pay = true, .backoff = GZ_CHOICE_MAX_WAIT})

/* Is the next gzip made of units? */
bool gz_choice_units(const struct gz_choice *g);
/* A whole-text gzip was made. */
void gz_choice_whole_done(struct gz_choice *g);
/* A unit gzip was made (ok), or failed; of its units, reused and
 * compressed. */
void gz_choice_units_done(struct gz_choice *g, bool ok, size_t reused, size_t compressed);

#endif
