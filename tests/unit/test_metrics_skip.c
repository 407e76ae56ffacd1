// SPDX-License-Identifier: Apache-2.0
/* Unit tests for gzip-only builds: stamped blocks that did not change are
 * left out of the text (ctw_metrics_block_stamped, ctw_metrics_skip_same)
 * and their compressed units come from the gzip cache.  The one property
 * that matters: the gzip of such a build inflates to exactly the text a
 * whole build of the same data writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>

#include "gunzip.h"

#include "../../exporters/exporters.h"

#define NC 60 /* containers */
#define NS 6  /* samples of each in the counter family */

/* What a scrape shows: per container, its counters and its histogram. */
struct data {
	uint64_t calls[NC][NS];
	uint64_t buckets[NC][3];
	/* a loose sample that repeats container dup_of's first series
	 * (a collector bug the builder must still refuse), -1: none */
	int dup_of;
};

static uint64_t stamp_of(const uint64_t *v, size_t n)
{
	return ctw_metrics_stamp(v, n * sizeof(*v), 0);
}

static bool holds(void *c, uint64_t id, uint64_t hash, size_t len)
{
	return ctw_gzcache_holds(c, id, hash, len);
}

/* One build of d into m: a counter family of stamped blocks, a gauge of
 * plain samples, a histogram family of stamped blocks, then the counter
 * family again (its lines go to a side body). */
static void scrape(struct ctw_metrics *m, const struct data *d)
{
	static const char *const sc[NS] = {"read", "write", "openat", "close", "mmap", "futex"};
	static const double bounds[] = {0.001, 0.1};
	char id[NC][16];
	if (d->dup_of >= 0) {
		snprintf(id[0], sizeof(id[0]), "c%d", d->dup_of);
		ctw_metrics_family(m, "t_calls_total", CTW_COUNTER, "Calls.");
		ctw_metrics_sample(m,
				   (const char *const[]){"container", id[0], "pod", "p\"q",
							 "syscall", sc[0], NULL},
				   (double)d->calls[d->dup_of][0]);
	}
	ctw_metrics_family(m, "t_calls_total", CTW_COUNTER, "Calls.");
	for (int c = 0; c < NC; c++) {
		snprintf(id[c], sizeof(id[c]), "c%d", c);
		const char *l[] = {"container", id[c], "pod", "p\"q", NULL};
		enum ctw_block_state st =
			ctw_metrics_block_stamped(m, l, stamp_of(d->calls[c], NS));
		assert_int_not_equal(st, CTW_BLOCK_BAD);
		if (st == CTW_BLOCK_SAME)
			continue;
		for (int s = 0; s < NS; s++)
			if (d->calls[c][s])
				ctw_metrics_block_sample(m, "syscall", sc[s],
							 (double)d->calls[c][s]);
	}
	ctw_metrics_family(m, "t_up", CTW_GAUGE, "Up.");
	for (int c = 0; c < NC; c += 7)
		ctw_metrics_sample(m, (const char *const[]){"container", id[c], NULL}, 1);
	ctw_metrics_family(m, "t_wait_seconds", CTW_HISTOGRAM, "Waits.");
	for (int c = 0; c < NC; c++) {
		const char *l[] = {"container", id[c], NULL};
		enum ctw_block_state st =
			ctw_metrics_block_stamped(m, l, stamp_of(d->buckets[c], 3));
		if (st == CTW_BLOCK_OPEN)
			ctw_metrics_block_histogram(m, "kind", "x", bounds, d->buckets[c], 2,
						    (double)d->buckets[c][0] / 4);
	}
	ctw_metrics_family(m, "t_calls_total", CTW_COUNTER, "Calls.");
	for (int c = 0; c < NC; c += 10) {
		const char *l[] = {"container", id[c], "pod", "other", NULL};
		if (ctw_metrics_block_stamped(m, l, stamp_of(d->calls[c], 1)) == CTW_BLOCK_OPEN)
			ctw_metrics_block_sample(m, "syscall", "read", (double)d->calls[c][0]);
	}
}

static char *read_fd(int fd, size_t len)
{
	char *t = malloc(len + 1);
	assert_int_equal(pread(fd, t, len, 0), (ssize_t)len);
	t[len] = '\0';
	return t;
}

/* The whole text of d from a fresh builder, and its series count. */
static char *whole_text(const struct data *d, size_t max_series, size_t *len, size_t *series,
			uint64_t *dups, uint64_t *dropped)
{
	struct ctw_metrics *w = ctw_metrics_new(max_series);
	scrape(w, d);
	char *t = ctw_metrics_take_text(w, len);
	*series = ctw_metrics_series(w);
	*dups = ctw_metrics_duplicates(w);
	*dropped = ctw_metrics_dropped(w);
	ctw_metrics_free(w);
	return t;
}

/* A build of d by m (reset, skipping when skip), gzipped through c: its
 * gzip must inflate to the whole text.  Returns the bytes left out. */
static size_t check_build(struct ctw_metrics *m, struct ctw_gzcache *c, const struct data *d,
			  size_t max_series, bool skip, bool fd_mode)
{
	ctw_metrics_reset(m, max_series);
	if (skip)
		ctw_metrics_skip_same(m, holds, c);
	scrape(m, d);
	size_t len, nsegs, zl, ul;
	char *text = NULL, *z;
	int fd = -1;
	if (fd_mode) {
		fd = ctw_metrics_take_fd(m, &len);
		assert_true(fd >= 0);
	} else {
		text = ctw_metrics_take_text(m, &len);
	}
	size_t skipped = ctw_metrics_skipped(m);
	struct ctw_metrics_seg *segs = ctw_metrics_take_segments(m, &nsegs);
	size_t series = ctw_metrics_series(m), wlen, wseries;
	uint64_t dups = ctw_metrics_duplicates(m), dropped = ctw_metrics_dropped(m), wdups,
		 wdropped;
	char *want = whole_text(d, max_series, &wlen, &wseries, &wdups, &wdropped);
	if (!skipped) { /* a whole text: the same as a fresh builder's */
		char *got = fd_mode ? read_fd(fd, len) : text;
		assert_int_equal(len, wlen);
		assert_memory_equal(got, want, wlen);
		if (fd_mode)
			free(got);
	}
	int rc = fd_mode ? ctw_gzcache_compress_fd(c, fd, len, segs, nsegs, &z, &zl)
			 : ctw_gzcache_compress(c, text, len, segs, nsegs, &z, &zl);
	assert_int_equal(rc, 0);
	char *u = gunzip(z, zl, &ul);
	assert_int_equal(ul, wlen);
	assert_int_equal(len + skipped, wlen);
	assert_memory_equal(u, want, wlen);
	assert_int_equal(series, wseries);
	assert_int_equal(dups, wdups);
	assert_int_equal(dropped, wdropped);
	ctw_metrics_give_back_segments(m, segs);
	free(u);
	free(z);
	free(want);
	free(text);
	if (fd >= 0)
		close(fd);
	return skipped;
}

static void init_data(struct data *d)
{
	memset(d, 0, sizeof(*d));
	d->dup_of = -1;
	for (int c = 0; c < NC; c++) {
		for (int s = 0; s < NS; s++)
			d->calls[c][s] = (uint64_t)(c * 7 + s * 3) % 11;
		for (int b = 0; b < 3; b++)
			d->buckets[c][b] = (uint64_t)(c + b) % 4;
	}
}

/* Round after round, a fifth of the containers change: most blocks are
 * left out, every gzip inflates to the whole text; in fd mode and in
 * memory, and on alternate rounds a build that writes everything. */
static void test_skip_rounds(void **state)
{
	(void)state;
	for (int fd_mode = 0; fd_mode < 2; fd_mode++) {
		struct data d;
		init_data(&d);
		struct ctw_metrics *m = ctw_metrics_new(0);
		if (fd_mode)
			assert_true(ctw_metrics_use_fd(m));
		struct ctw_gzcache *c = ctw_gzcache_new();
		assert_int_equal(check_build(m, c, &d, 0, true, fd_mode),
				 0); /* nothing known yet */
		size_t total_skipped = 0;
		for (int round = 1; round <= 6; round++) {
			for (int k = round % 5; k < NC; k += 5)
				d.calls[k][round % NS] += (uint64_t)round;
			d.buckets[(round * 13) % NC][1]++;
			bool skip = round != 3;
			size_t s = check_build(m, c, &d, 0, skip, fd_mode);
			if (skip)
				assert_true(s > 0);
			else
				assert_int_equal(s, 0);
			total_skipped += s;
			size_t reused, compressed;
			ctw_gzcache_stats(c, &reused, &compressed);
			assert_true(reused > compressed);
		}
		assert_true(total_skipped > 0);
		ctw_gzcache_free(c);
		ctw_metrics_free(m);
	}
}

/* A series already in the text, a cap that cuts a block, a unit the
 * cache does not hold: the block is written, as a whole build would. */
static void test_skip_refused(void **state)
{
	(void)state;
	struct data d;
	init_data(&d);
	struct ctw_metrics *m = ctw_metrics_new(0);
	assert_true(ctw_metrics_use_fd(m));
	struct ctw_gzcache *c = ctw_gzcache_new();
	check_build(m, c, &d, 0, false, true);
	size_t all = check_build(m, c, &d, 0, true, true);
	assert_true(all > 0);
	/* the duplicate comes first: container 5's block is written (and
	 * its repeated series refused), the others are still left out */
	d.dup_of = 5;
	size_t dup = check_build(m, c, &d, 0, true, true);
	assert_true(dup > 0 && dup < all);
	d.dup_of = -1;
	/* a cap: the blocks it cuts are written (their series dropped) */
	size_t whole_len, series;
	uint64_t dups, dropped;
	free(whole_text(&d, 0, &whole_len, &series, &dups, &dropped));
	check_build(m, c, &d, series - 20, true, true);
	check_build(m, c, &d, 0, true, true);
	/* a cache that holds nothing: nothing left out */
	struct ctw_gzcache *empty = ctw_gzcache_new();
	assert_int_equal(check_build(m, empty, &d, 0, true, true), 0);
	ctw_gzcache_free(empty);
	ctw_gzcache_free(c);
	ctw_metrics_free(m);
}

/* A text with blocks left out, gzipped by a cache that lost their units:
 * -ESTALE, not a wrong gzip. */
static void test_skip_stale_cache(void **state)
{
	(void)state;
	struct data d;
	init_data(&d);
	struct ctw_metrics *m = ctw_metrics_new(0);
	struct ctw_gzcache *c = ctw_gzcache_new(), *other = ctw_gzcache_new();
	check_build(m, c, &d, 0, false, false);
	ctw_metrics_reset(m, 0);
	ctw_metrics_skip_same(m, holds, c);
	scrape(m, &d);
	size_t len, nsegs, zl;
	char *text = ctw_metrics_take_text(m, &len), *z = NULL;
	assert_true(ctw_metrics_skipped(m) > 0);
	struct ctw_metrics_seg *segs = ctw_metrics_take_segments(m, &nsegs);
	assert_int_equal(ctw_gzcache_compress(other, text, len, segs, nsegs, &z, &zl), -ESTALE);
	assert_null(z);
	free(segs);
	free(text);
	ctw_gzcache_free(other);
	ctw_gzcache_free(c);
	ctw_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skip_rounds),
		cmocka_unit_test(test_skip_refused),
		cmocka_unit_test(test_skip_stale_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
