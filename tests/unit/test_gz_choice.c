// SPDX-License-Identifier: Apache-2.0
/* Which gzip the next scrape gets (exporters/gz_choice.c): units while
 * they pay, a second try at once after one that did not, then whole-text
 * gzips with a growing wait between tries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "../../exporters/gz_choice.h"

/* Run n scrapes, each unit gzip paying when pays(i); the choices as a
 * string: 'U' a unit gzip, 'W' a whole-text one. */
static void run(struct gz_choice *g, int n, bool (*pays)(int i), char *out)
{
	for (int i = 0; i < n; i++) {
		if (gz_choice_units(g)) {
			out[i] = 'U';
			bool p = pays(i);
			gz_choice_units_done(g, true, p ? 90 : 10, p ? 10 : 90);
		} else {
			out[i] = 'W';
			gz_choice_whole_done(g);
		}
	}
	out[n] = '\0';
}

static bool always(int i)
{
	(void)i;
	return true;
}

static bool never(int i)
{
	(void)i;
	return false;
}

/* the first scrape after a pause (i == 0) changed more than the rest */
static bool all_but_first(int i)
{
	return i > 0;
}

/* From the start, a text that changes everywhere (units never paid):
 * 8 whole-text gzips between tries at once. */
static void test_never_paid_waits_at_once(void **state)
{
	(void)state;
	struct gz_choice g = GZ_CHOICE_INIT;
	char s[32];
	run(&g, 22, never, s);
	assert_string_equal(s, "UU"
			       "WWWWWWWW"
			       "UU"
			       "WWWWWWWW"
			       "UU");
}

static void test_units_while_they_pay(void **state)
{
	(void)state;
	struct gz_choice g = GZ_CHOICE_INIT;
	char s[32];
	run(&g, 10, always, s);
	assert_string_equal(s, "UUUUUUUUUU");
}

/* One unit gzip that did not pay (a pause) after units paid: the next
 * tries again, and pays; no whole-text gzips. */
static void test_one_miss_retried_at_once(void **state)
{
	(void)state;
	struct gz_choice g = GZ_CHOICE_INIT;
	char s[32];
	run(&g, 2, always, s);
	run(&g, 10, all_but_first, s);
	assert_string_equal(s, "UUUUUUUUUU");
}

/* Units that paid, then never do: whole-text gzips with waits 1, 2, 4,
 * then 8 between tries; each try is two unit gzips (the first after
 * whole-text ones finds old units and cannot judge). */
static void test_never_paying_backs_off(void **state)
{
	(void)state;
	struct gz_choice g = GZ_CHOICE_INIT;
	char s[64];
	run(&g, 2, always, s);
	run(&g, 41, never, s);
	assert_string_equal(s, "UU"
			       "W"
			       "UU"
			       "WW"
			       "UU"
			       "WWWW"
			       "UU"
			       "WWWWWWWW"
			       "UU"
			       "WWWWWWWW"
			       "UU"
			       "WWWWWW");
}

/* After backing off, units that pay again bring the wait back to none. */
static void test_paying_again_resets(void **state)
{
	(void)state;
	struct gz_choice g = GZ_CHOICE_INIT;
	char s[64];
	run(&g, 2, always, s);
	run(&g, 8, never, s); /* UU W UU WW U */
	assert_string_equal(s, "UUWUUWWU");
	run(&g, 6, always, s); /* the try's second unit gzip judges */
	assert_string_equal(s, "UUUUUU");
	run(&g, 3, never, s); /* a fresh miss: retried at once, then one W */
	assert_string_equal(s, "UUW");
}

/* A unit gzip that failed (the cache lost a unit) counts as not paying. */
static void test_failure_is_a_miss(void **state)
{
	(void)state;
	struct gz_choice g = GZ_CHOICE_INIT;
	gz_choice_units_done(&g, true, 90, 10);
	gz_choice_units_done(&g, true, 90, 10);
	assert_true(gz_choice_units(&g));
	gz_choice_units_done(&g, false, 0, 0);
	assert_true(gz_choice_units(&g)); /* tried again at once */
	gz_choice_units_done(&g, false, 0, 0);
	assert_false(gz_choice_units(&g));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_paid_waits_at_once),
		cmocka_unit_test(test_units_while_they_pay),
		cmocka_unit_test(test_one_miss_retried_at_once),
		cmocka_unit_test(test_never_paying_backs_off),
		cmocka_unit_test(test_paying_again_resets),
		cmocka_unit_test(test_failure_is_a_miss),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
