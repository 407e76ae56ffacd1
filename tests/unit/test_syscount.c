// SPDX-License-Identifier: Apache-2.0
/*
 * The syscall counter's slot table without the kernel: the programs'
 * algorithms (bpf/syscount_tab.h, compiled here as plain C) in the
 * interleavings that used to leave a cgroup with two slots or a slot with
 * no owner, the same under threads, and user space's book of the slots
 * (agent/syscount_book.c): claims learnt from records and passes, entries
 * gone, cooling, giving back.  A simulation of kernel and book together
 * churns cgroups and checks that every slot comes back to the queue once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../bpf/syscount.h"
#define SC_TAB_INLINE static inline
#include "../../bpf/syscount_tab.h"

static __u64 tab[SYSCOUNT_TAB_SIZE];

/* ids that share one hash chain */
static void colliding(__u64 *ids, int n, __u64 from)
{
	__u32 h = SYSCOUNT_TAB_HASH(from);
	int k = 0;

	for (__u64 id = from; k < n; id++)
		if (SYSCOUNT_TAB_HASH(id) == h)
			ids[k++] = id;
}

static __u64 at(__u64 id, int i)
{
	return tab[SC_TAB_IDX(SYSCOUNT_TAB_HASH(id), i)];
}

/* the program's find(): -1 when not entered */
static int find(__u64 id)
{
	for (int i = 0; i < SYSCOUNT_TAB_PROBES; i++) {
		__u64 e = at(id, i);
		if (e >> 16 == id)
			return (int)(e & 0xffff);
		if (!e)
			break;
	}
	return -1;
}

static int entries_of(__u64 id)
{
	int n = 0;
	for (int i = 0; i < SYSCOUNT_TAB_PROBES; i++)
		n += at(id, i) >> 16 == id;
	return n;
}

static const __u64 task1 = 0xffff888100a3c000ull, task2 = 0xffff888100a3d8c0ull;

/* Every memo made of the words of two writes, but not all of one, checks
 * out for no task and no cgroup at any epoch. */
static void torn_never_checks_out(const struct syscount_memo *a, const struct syscount_memo *b)
{
	for (int mix = 1; mix < 7; mix++) {
		struct syscount_memo torn = *a;

		torn.task = mix & 1 ? b->task : a->task;
		torn.entry = mix & 2 ? b->entry : a->entry;
		torn.check = mix & 4 ? b->check : a->check;
		if (!memcmp(&torn, a, sizeof(torn)) || !memcmp(&torn, b, sizeof(torn)))
			continue; /* equal words: one write */
		for (__u64 e = 0; e < 4; e++) {
			assert_int_equal(sc_memo_get(&torn, task1, e), -1);
			assert_int_equal(sc_memo_get(&torn, task2, e), -1);
			assert_int_equal(sc_memo_get_id(&torn, 1000, e), -1);
			assert_int_equal(sc_memo_get_id(&torn, 2000, e), -1);
		}
	}
}

/* The per-CPU memo: a hit only for the task (or, by id, the cgroup) and the
 * epoch it was made at; a zeroed memo and a memo torn between two writers
 * (words of both) never check out. */
static void test_memo(void **state)
{
	struct syscount_memo m = {0}, a = {0}, b = {0};

	assert_int_equal(sc_memo_get(&m, 0, 0), -1); /* never written */
	assert_int_equal(sc_memo_get_id(&m, 0, 0), -1);
	sc_memo_put(&m, task1, 1000, 7, 5);
	assert_int_equal(sc_memo_get(&m, task1, 5), 7);
	assert_int_equal(sc_memo_get(&m, task2, 5), -1);   /* another task */
	assert_int_equal(sc_memo_get(&m, task1, 6), -1);   /* the epoch moved on */
	assert_int_equal(sc_memo_get_id(&m, 1000, 5), 7);  /* its cgroup, any task */
	assert_int_equal(sc_memo_get_id(&m, 1001, 5), -1); /* another cgroup */
	assert_int_equal(sc_memo_get_id(&m, 1000, 6), -1);
	/* two writes: other tasks, cgroups, epochs, slots */
	for (__u64 e1 = 0; e1 < 4; e1++)
		for (__u64 e2 = 0; e2 < 4; e2++)
			for (int same = 0; same < 4; same++) {
				sc_memo_put(&a, task1, 1000, 7, e1);
				sc_memo_put(&b, same & 1 ? task1 : task2, same & 2 ? 1000 : 2000,
					    same ? 8 : 9, e2);
				torn_never_checks_out(&a, &b);
			}
}

static int setup(void **state)
{
	memset(tab, 0, sizeof(tab));
	return 0;
}

static void test_put_find(void **state)
{
	__u32 found = 0;

	assert_int_equal(sc_tab_put(tab, 1000, 7, &found), 0);
	assert_int_equal(find(1000), 7);
	assert_int_equal(sc_tab_put(tab, 1000, 8, &found), SC_TAB_FOUND);
	assert_int_equal(found, 7);
	assert_int_equal(sc_tab_settle(tab, 1000, 0, 7), 7);
	assert_int_equal(find(1001), -1);
}

static void test_chain_full(void **state)
{
	__u64 ids[SYSCOUNT_TAB_PROBES + 1];
	__u32 found;

	colliding(ids, SYSCOUNT_TAB_PROBES + 1, 5000);
	for (int i = 0; i < SYSCOUNT_TAB_PROBES; i++)
		assert_int_equal(sc_tab_put(tab, ids[i], i + 1, &found), i);
	assert_int_equal(sc_tab_put(tab, ids[SYSCOUNT_TAB_PROBES], 99, &found), SC_TAB_FULL);
	/* a removal frees a place */
	assert_int_equal(sc_tab_remove(tab, ids[3]), 1);
	assert_int_equal(sc_tab_put(tab, ids[SYSCOUNT_TAB_PROBES], 99, &found), 3);
	assert_int_equal(find(ids[SYSCOUNT_TAB_PROBES]), 99);
}

/* A removed entry is a tombstone, never empty, whatever follows: an empty
 * entry in front of a live one hid it (its cgroup took a second slot, and
 * its rmdir stopped there and left the first for good). */
static void test_remove_leaves_tombstone(void **state)
{
	__u64 ids[3];
	__u32 found;

	colliding(ids, 3, 9000);
	assert_int_equal(sc_tab_put(tab, ids[0], 1, &found), 0);
	assert_int_equal(sc_tab_put(tab, ids[1], 2, &found), 1);
	assert_int_equal(sc_tab_remove(tab, ids[1]), 1); /* last of its chain */
	assert_true(at(ids[1], 1) == SYSCOUNT_TAB_TOMB);
	assert_int_equal(sc_tab_remove(tab, ids[0]), 1);
	assert_true(at(ids[0], 0) == SYSCOUNT_TAB_TOMB);
	assert_int_equal(sc_tab_remove(tab, ids[0]), 0); /* once */
	/* tombstones are reused, in chain order */
	assert_int_equal(sc_tab_put(tab, ids[2], 3, &found), 0);
	assert_int_equal(find(ids[2]), 3);
}

/* The old window: cgroup A (probe 0) is removed while X's claim, having
 * passed A, enters X at probe 1.  Removing A must not hide X: X is found,
 * and X's own removal finds its entry. */
static void test_remove_in_front_of_claim(void **state)
{
	__u64 ids[2];
	__u32 found;

	colliding(ids, 2, 12000);
	assert_int_equal(sc_tab_put(tab, ids[0], 1, &found), 0);
	assert_int_equal(sc_tab_put(tab, ids[1], 2, &found), 1); /* X's claim */
	assert_int_equal(sc_tab_remove(tab, ids[0]), 1);	 /* A goes */
	assert_int_equal(find(ids[1]), 2);
	assert_int_equal(sc_tab_remove(tab, ids[1]), 1);
	assert_int_equal(entries_of(ids[1]), 0);
}

/* Two CPUs of new cgroup X both missed it; one entered X at probe 1 (behind
 * A) and settled; A went; the other reuses A's tombstone at probe 0.  Its
 * settle keeps probe 0 and removes probe 1: X has one entry. */
static void test_two_claims_across_tombstone(void **state)
{
	__u64 ids[2], x;
	__u32 found;
	int a1, a2;

	colliding(ids, 2, 15000);
	x = ids[1];
	assert_int_equal(sc_tab_put(tab, ids[0], 1, &found), 0);
	a1 = sc_tab_put(tab, x, 10, &found);
	assert_int_equal(a1, 1);
	assert_int_equal(sc_tab_settle(tab, x, a1, 10), 10);
	assert_int_equal(sc_tab_remove(tab, ids[0]), 1);
	a2 = sc_tab_put(tab, x, 11, &found);
	assert_int_equal(a2, 0);
	assert_int_equal(sc_tab_settle(tab, x, a2, 11), 11);
	assert_int_equal(entries_of(x), 1);
	assert_int_equal(find(x), 11);
	assert_int_equal(sc_tab_remove(tab, x), 1);
	assert_int_equal(entries_of(x), 0);
}

/* The same with both entries made before either settles: the first to
 * settle (the higher probe's) gives way and counts in the lower one. */
static void test_two_claims_both_put(void **state)
{
	__u64 ids[2], x;
	__u32 found;

	colliding(ids, 2, 18000);
	x = ids[1];
	assert_int_equal(sc_tab_put(tab, ids[0], 1, &found), 0);
	assert_int_equal(sc_tab_put(tab, x, 10, &found), 1);
	assert_int_equal(sc_tab_remove(tab, ids[0]), 1);
	assert_int_equal(sc_tab_put(tab, x, 11, &found), 0);
	assert_int_equal(sc_tab_settle(tab, x, 1, 10), 11);
	assert_int_equal(sc_tab_settle(tab, x, 0, 11), 11);
	assert_int_equal(entries_of(x), 1);
	assert_int_equal(find(x), 11);
}

/* A task read X's id, was moved out, X was removed (its rmdir found
 * nothing), then the task claims: the claim sees X offline and removes its
 * own entry.  The other order (claim, then rmdir) leaves nothing either. */
static void test_claim_after_rmdir(void **state)
{
	__u32 found;
	int a;

	assert_int_equal(sc_tab_remove(tab, 4242), 0); /* the rmdir first */
	a = sc_tab_put(tab, 4242, 5, &found);
	assert_true(a >= 0);
	assert_int_equal(sc_tab_settle(tab, 4242, a, 5), 5);
	assert_int_equal(sc_tab_remove(tab, 4242), 1); /* the claim: offline */
	assert_int_equal(entries_of(4242), 0);

	a = sc_tab_put(tab, 4343, 6, &found); /* the claim first */
	assert_int_equal(sc_tab_settle(tab, 4343, a, 6), 6);
	assert_int_equal(sc_tab_remove(tab, 4343), 1); /* the rmdir */
	assert_int_equal(sc_tab_remove(tab, 4343), 0); /* the claim: offline */
	assert_int_equal(entries_of(4343), 0);
}

/* ---- threads: the same races, at random ---- */

#define ROUNDS 3000
static __u64 rids[ROUNDS + 4];
static pthread_barrier_t bar;
static __u32 got[2][ROUNDS];

static __u32 claim_like(__u64 id, __u32 slot)
{
	__u32 found;
	int a;

	if (find(id) >= 0)
		return (__u32)find(id);
	a = sc_tab_put(tab, id, slot, &found);
	if (a < 0)
		return a == SC_TAB_FOUND ? found : 0;
	return sc_tab_settle(tab, id, a, slot);
}

static void *claimer(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (int r = 0; r < ROUNDS; r++) {
		pthread_barrier_wait(&bar);
		got[me][r] = claim_like(rids[r + 2], 2 * r + me + 1);
		pthread_barrier_wait(&bar);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[2];
	int bad = 0;

	colliding(rids, ROUNDS + 2, 21000);
	assert_int_equal(pthread_barrier_init(&bar, NULL, 3), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, claimer, (void *)(intptr_t)i), 0);
	for (int r = 0; r < ROUNDS; r++) {
		__u32 found;
		/* two neighbours in front, one to be removed during the round */
		sc_tab_put(tab, rids[r % 2], 60000, &found);
		pthread_barrier_wait(&bar);
		sc_tab_remove(tab, rids[(r + 1) % 2]);
		pthread_barrier_wait(&bar);
		/* one entry, and both CPUs ended up counting in it, or in a
		 * slot whose entry went (user space retires it: still X's) */
		if (entries_of(rids[r + 2]) != 1)
			bad++;
		sc_tab_remove(tab, rids[r + 2]);
		if (entries_of(rids[r + 2]) != 0)
			bad++;
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bar);
	assert_int_equal(bad, 0);
}

/* ---- user space's book ---- */

static struct syscount_book book;
static uint32_t gb[SYSCOUNT_SLOTS_MAX];

static int book_setup(void **state)
{
	memset(tab, 0, sizeof(tab));
	syscount_book_init(&book);
	syscount_book_grow(&book, SYSCOUNT_CHUNK_SLOTS - 1); /* chunk 0: not slot 0 */
	return 0;
}

static int book_teardown(void **state)
{
	syscount_book_free(&book);
	return 0;
}

static size_t pass(uint64_t now)
{
	return syscount_book_pass(&book, (const uint64_t *)tab, now, gb);
}

static void test_book_record_then_pass(void **state)
{
	__u32 found;

	assert_int_equal(book.nfree, 63);
	assert_true(syscount_book_taken(&book, 5, 777));
	assert_false(syscount_book_taken(&book, 5, 777)); /* once */
	sc_tab_put(tab, 777, 5, &found);
	assert_int_equal(pass(1000), 0);
	assert_int_equal(book.nfree, 62);
	assert_int_equal(book.slot_id[5], 777);
	assert_int_equal(syscount_book_used(&book), 1);
	/* the pass first, then the record */
	sc_tab_put(tab, 778, 6, &found);
	assert_int_equal(pass(2000), 0);
	assert_false(syscount_book_taken(&book, 6, 778));
	assert_int_equal(book.nfree, 61);
	/* records that name nothing real are ignored */
	assert_false(syscount_book_taken(&book, SYSCOUNT_SLOT_UNATTRIBUTED, 1));
	assert_false(syscount_book_taken(&book, 64, 1));
	assert_false(syscount_book_taken(&book, 7, 0));
	assert_int_equal(book.nfree, 61);
}

/* An entry gone: the slot cools (still its cgroup's) for SYSCOUNT_COOL_NS,
 * and only a pass after that gives it back. */
static void test_book_cooling(void **state)
{
	const uint64_t t0 = 5000000000ull;
	__u32 found;

	sc_tab_put(tab, 900, 9, &found);
	assert_int_equal(pass(t0), 0);
	sc_tab_remove(tab, 900);
	assert_int_equal(pass(t0 + 1), 0); /* cooling starts */
	assert_int_equal(book.slot_id[9], 900);
	assert_int_equal(pass(t0 + SYSCOUNT_COOL_NS), 0);
	assert_int_equal(pass(t0 + 1 + SYSCOUNT_COOL_NS), 1);
	assert_int_equal(gb[0], 9);
	assert_int_equal(book.slot_id[9], 900); /* the caller reads it first */
	syscount_book_given_back(&book, 9, true);
	assert_int_equal(book.slot_id[9], 0);
	assert_int_equal(book.nfree, 63);
	assert_int_equal(syscount_book_used(&book), 0);
	assert_int_equal(pass(t0 + 3 * SYSCOUNT_COOL_NS), 0); /* not twice */
}

/* A cgroup that took a slot and went between two passes: only the record
 * names the slot; it cools and comes back. */
static void test_book_record_only(void **state)
{
	assert_true(syscount_book_taken(&book, 12, 1234));
	assert_int_equal(pass(1), 0);
	assert_int_equal(pass(2 + SYSCOUNT_COOL_NS), 1);
	assert_int_equal(gb[0], 12);
	syscount_book_given_back(&book, 12, true);
	assert_int_equal(book.nfree, 63);
}

/* The table names a slot for another cgroup than we thought (a record
 * missed): the table wins, the slot is not given back under it. */
static void test_book_table_wins(void **state)
{
	__u32 found;

	assert_true(syscount_book_taken(&book, 20, 111));
	sc_tab_put(tab, 222, 20, &found);
	assert_int_equal(pass(10), 0);
	assert_int_equal(book.slot_id[20], 222);
	assert_int_equal(pass(10 + 10 * SYSCOUNT_COOL_NS), 0);
	assert_int_equal(book.nfree, 62);
}

/* A push that failed: the slot is out of use, not counted free. */
static void test_book_push_failed(void **state)
{
	assert_true(syscount_book_taken(&book, 30, 3030));
	pass(1);
	assert_int_equal(pass(2 + SYSCOUNT_COOL_NS), 1);
	syscount_book_given_back(&book, 30, false);
	assert_int_equal(book.nfree, 62);
	assert_int_equal(syscount_book_used(&book), 0);
}

/* ---- kernel and book together: churn ---- */

static uint32_t queue[SYSCOUNT_SLOTS_MAX];
static size_t qn;

static bool pop(uint32_t *s)
{
	if (!qn)
		return false;
	*s = queue[--qn];
	return true;
}

/* the program's claim(); `online`: the cgroup had not gone when it looked */
static __u32 sim_claim(__u64 id, bool online)
{
	__u32 slot, found;
	int a;

	if (!pop(&slot))
		return 0;
	a = sc_tab_put(tab, id, slot, &found);
	if (a < 0) {
		queue[qn++] = slot;
		return a == SC_TAB_FOUND ? found : 0;
	}
	syscount_book_taken(&book, slot, id); /* the record */
	slot = sc_tab_settle(tab, id, a, slot);
	if (!online)
		sc_tab_remove(tab, id);
	return slot;
}

static void test_churn(void **state)
{
	uint64_t now = 1;
	unsigned int seed = 1;
	__u64 next_id = 100000;

	qn = 0;
	for (uint32_t s = 1; s < SYSCOUNT_CHUNK_SLOTS; s++)
		queue[qn++] = s;
	for (int round = 0; round < 2000; round++) {
		__u64 ids[6];
		int n = 1 + rand_r(&seed) % 6;
		for (int i = 0; i < n; i++) {
			ids[i] = next_id++;
			sim_claim(ids[i], true);
			if (rand_r(&seed) % 3 == 0) /* a second CPU, missed it */
				sim_claim(ids[i], true);
		}
		if (rand_r(&seed) % 4 == 0)
			pass(now);
		for (int i = 0; i < n; i++) {
			sc_tab_remove(tab, ids[i]); /* rmdir */
			if (rand_r(&seed) % 5 == 0) /* a moved task's late claim */
				sim_claim(ids[i], false);
		}
		now += SYSCOUNT_COOL_NS / 3;
		size_t k = pass(now);
		for (size_t i = 0; i < k; i++) {
			queue[qn++] = gb[i];
			syscount_book_given_back(&book, gb[i], true);
		}
	}
	for (int i = 0; i < 3; i++) {
		now += SYSCOUNT_COOL_NS;
		size_t k = pass(now);
		for (size_t j = 0; j < k; j++) {
			queue[qn++] = gb[j];
			syscount_book_given_back(&book, gb[j], true);
		}
	}
	/* every slot back, once; the table holds tombstones only */
	assert_int_equal(qn, SYSCOUNT_CHUNK_SLOTS - 1);
	assert_int_equal(book.nfree, SYSCOUNT_CHUNK_SLOTS - 1);
	assert_int_equal(syscount_book_used(&book), 0);
	uint8_t seen[SYSCOUNT_CHUNK_SLOTS] = {0};
	for (size_t i = 0; i < qn; i++) {
		assert_true(queue[i] > 0 && queue[i] < SYSCOUNT_CHUNK_SLOTS);
		assert_int_equal(seen[queue[i]]++, 0);
	}
	for (uint32_t i = 0; i < SYSCOUNT_TAB_SIZE; i++)
		assert_true(!tab[i] || tab[i] == SYSCOUNT_TAB_TOMB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memo),
		cmocka_unit_test_setup(test_put_find, setup),
		cmocka_unit_test_setup(test_chain_full, setup),
		cmocka_unit_test_setup(test_remove_leaves_tombstone, setup),
		cmocka_unit_test_setup(test_remove_in_front_of_claim, setup),
		cmocka_unit_test_setup(test_two_claims_across_tombstone, setup),
		cmocka_unit_test_setup(test_two_claims_both_put, setup),
		cmocka_unit_test_setup(test_claim_after_rmdir, setup),
		cmocka_unit_test_setup(test_threads, setup),
		cmocka_unit_test_setup_teardown(test_book_record_then_pass, book_setup,
						book_teardown),
		cmocka_unit_test_setup_teardown(test_book_cooling, book_setup, book_teardown),
		cmocka_unit_test_setup_teardown(test_book_record_only, book_setup, book_teardown),
		cmocka_unit_test_setup_teardown(test_book_table_wins, book_setup, book_teardown),
		cmocka_unit_test_setup_teardown(test_book_push_failed, book_setup, book_teardown),
		cmocka_unit_test_setup_teardown(test_churn, book_setup, book_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
