// SPDX-License-Identifier: Apache-2.0
/* Unit tests for the reuse of unchanged blocks from one text to the next
 * (ctw_metrics_block_reuse, exporters/metrics.c and blockmemo.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../exporters/exporters.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static const double bounds[] = {0.001, 0.5, 1};

/* One scrape: containers c0..c(n-1), each a block of `calls` samples and a
 * histogram block; container `moved` (-1: none) has other values.  Blocks
 * given their signature when `reuse`.  The text, malloc'ed. */
static char *scrape(struct ctw_metrics *m, int n, int moved, bool reuse, size_t *series)
{
	char name[16], sc[16];
	ctw_metrics_reset(m, 0);
	ctw_metrics_family(m, "s_total", CTW_COUNTER, "S");
	for (int c = 0; c < n; c++) {
		snprintf(name, sizeof(name), "c%d", c);
		uint64_t base = c == moved ? 1000 : 10;
		assert_true(ctw_metrics_block(m, L("container", name, "pod", "p\"q")));
		if (reuse && ctw_metrics_block_reuse(m, base))
			continue;
		for (int k = 0; k < 30; k++) {
			snprintf(sc, sizeof(sc), "sc%d", k);
			assert_true(ctw_metrics_block_sample(m, "syscall", sc, (double)(base + k)));
		}
	}
	ctw_metrics_family(m, "h_seconds", CTW_HISTOGRAM, "H");
	for (int c = 0; c < n; c++) {
		snprintf(name, sizeof(name), "c%d", c);
		uint64_t b[4] = {1, 2, (uint64_t)(c == moved ? 9 : 3), 4};
		assert_true(ctw_metrics_block(m, L("container", name)));
		if (reuse && ctw_metrics_block_reuse(m, b[2]))
			continue;
		assert_true(ctw_metrics_block_histogram(m, NULL, NULL, bounds, b, 3, 0.25));
	}
	ctw_metrics_family(m, "up", CTW_GAUGE, "U");
	ctw_metrics_sample(m, NULL, 1);
	*series = ctw_metrics_series(m);
	size_t len;
	return ctw_metrics_take_text(m, &len);
}

/* Reused blocks give the very text built afresh, moved or not, also after
 * the builder was trimmed between texts (the agent with a scrape cache). */
static void test_reuse_same_text(void **state)
{
	struct ctw_metrics *fresh = ctw_metrics_new(0), *m = ctw_metrics_new(0);
	size_t sf, sm, reused, built;
	int moves[] = {-1, 3, -1, 7, 7, -1};
	for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		char *want = scrape(fresh, 20, moves[i], false, &sf);
		char *got = scrape(m, 20, moves[i], true, &sm);
		assert_string_equal(got, want);
		assert_int_equal(sm, sf);
		assert_int_equal(sm, 20 * 30 + 20 * 6 + 1);
		ctw_metrics_reuse_stats(m, &reused, &built);
		if (i == 0) {
			assert_int_equal(reused, 0);
			assert_int_equal(built, 40);
		} else {
			/* the moved container's two blocks, and those of the one
			 * that moved the time before (back to its old values) */
			size_t expect = 0;
			if (moves[i] != moves[i - 1])
				expect = (moves[i] >= 0 ? 2 : 0) + (moves[i - 1] >= 0 ? 2 : 0);
			assert_int_equal(built, expect);
			assert_int_equal(reused, 40 - expect);
		}
		if (i % 2)
			ctw_metrics_trim(m);
		free(want);
		free(got);
	}
	ctw_metrics_free(fresh);
	ctw_metrics_free(m);
}

/* A text after one of 5 containers: container c0's block of s_total
 * reused, the cap at max_series. */
static void reuse_c0(struct ctw_metrics *m, size_t max_series)
{
	size_t n;
	free(scrape(m, 5, -1, true, &n));
	ctw_metrics_reset(m, max_series);
	ctw_metrics_family(m, "s_total", CTW_COUNTER, "S");
	assert_true(ctw_metrics_block(m, L("container", "c0", "pod", "p\"q")));
	assert_true(ctw_metrics_block_reuse(m, 10));
}

/* A reused block meets the duplicate check and the cap as its samples
 * would: a series already in the text is counted as a duplicate, and the
 * cap drops what does not fit. */
static void test_reuse_checks(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(0);
	/* the same block twice in one text: the second is a duplicate */
	reuse_c0(m, 0);
	assert_true(ctw_metrics_block(m, L("container", "c0", "pod", "p\"q")));
	assert_false(ctw_metrics_block_reuse(m, 10));
	assert_false(ctw_metrics_block_sample(m, "syscall", "sc0", 10));
	assert_int_equal(ctw_metrics_duplicates(m), 1);
	assert_int_equal(ctw_metrics_series(m), 30);
	/* labels in another order: another text, not reused */
	assert_true(ctw_metrics_block(m, L("pod", "p\"q", "container", "c1")));
	assert_false(ctw_metrics_block_reuse(m, 10));
	size_t len;
	free(ctw_metrics_take_text(m, &len));

	/* a clash after some of the block's series went in: those are taken
	 * out again, and the block built sample by sample meets only the one
	 * duplicate */
	reuse_c0(m, 0);
	assert_true(
		ctw_metrics_sample(m, L("container", "c1", "pod", "p\"q", "syscall", "sc5"), 15));
	assert_true(ctw_metrics_block(m, L("container", "c1", "pod", "p\"q")));
	assert_false(ctw_metrics_block_reuse(m, 10));
	for (int k = 0; k < 30; k++) {
		char sc[8];
		snprintf(sc, sizeof(sc), "sc%d", k);
		assert_int_equal(ctw_metrics_block_sample(m, "syscall", sc, 10 + k), k != 5);
	}
	assert_int_equal(ctw_metrics_duplicates(m), 1);
	assert_int_equal(ctw_metrics_series(m), 60);
	free(ctw_metrics_take_text(m, &len));

	/* the cap: a block that does not fit whole is built, sample by sample */
	reuse_c0(m, 45);
	assert_true(ctw_metrics_block(m, L("container", "c1", "pod", "p\"q")));
	assert_false(ctw_metrics_block_reuse(m, 10));
	assert_int_equal(ctw_metrics_series(m), 30);
	const char *t = ctw_metrics_text(m, &len);
	assert_non_null(
		strstr(t, "s_total{container=\"c0\",pod=\"p\\\"q\",syscall=\"sc29\"} 39\n"));
	ctw_metrics_free(m);
}

/* A block with a refused sample is not kept: the next text builds it. */
static void test_reuse_refused_not_kept(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(0);
	size_t len, reused, built;
	for (int round = 0; round < 2; round++) {
		ctw_metrics_reset(m, 0);
		ctw_metrics_family(m, "s_total", CTW_COUNTER, "S");
		assert_true(ctw_metrics_block(m, L("container", "a")));
		assert_false(ctw_metrics_block_reuse(m, 1));
		assert_true(ctw_metrics_block_sample(m, "syscall", "read", 1));
		assert_false(ctw_metrics_block_sample(m, "syscall", "read", 2)); /* duplicate */
		assert_true(ctw_metrics_block(m, L("container", "b")));
		assert_int_equal(ctw_metrics_block_reuse(m, 1), round == 1);
		if (round == 0)
			assert_true(ctw_metrics_block_sample(m, "syscall", "read", 1));
		free(ctw_metrics_take_text(m, &len));
		ctw_metrics_reuse_stats(m, &reused, &built);
		assert_int_equal(reused, round);
		assert_int_equal(built, 1 - round);
	}
	ctw_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse_same_text),
		cmocka_unit_test(test_reuse_checks),
		cmocka_unit_test(test_reuse_refused_not_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
