// SPDX-License-Identifier: Apache-2.0
/*
 * User space's book of the syscall counter slots: see bpf/syscount.h.
 * Pure logic over the table's words; agent/mod_syscalls.c does the BPF.
 */
#include <stdlib.h>
#include <string.h>

#include "../lib/lib.h"
#include "syscount.h"

void syscount_book_init(struct syscount_book *b)
{
	memset(b, 0, sizeof(*b));
	b->slot_id = xcalloc(SYSCOUNT_SLOTS_MAX, sizeof(*b->slot_id));
	b->cool_from = xcalloc(SYSCOUNT_SLOTS_MAX, sizeof(*b->cool_from));
	b->seen = xcalloc(SYSCOUNT_SLOTS_MAX, 1);
}

void syscount_book_free(struct syscount_book *b)
{
	free(b->slot_id);
	free(b->cool_from);
	free(b->seen);
	memset(b, 0, sizeof(*b));
}

void syscount_book_grow(struct syscount_book *b, uint32_t nqueued)
{
	b->nslots += SYSCOUNT_CHUNK_SLOTS;
	b->nfree += nqueued;
}

bool syscount_book_taken(struct syscount_book *b, uint32_t slot, uint64_t id)
{
	/* known already (a pass saw its entry first) */
	if (slot == SYSCOUNT_SLOT_UNATTRIBUTED || slot >= b->nslots || !id || b->slot_id[slot])
		return false;
	b->slot_id[slot] = id;
	b->nfree--;
	b->changes++;
	return true;
}

size_t syscount_book_pass(struct syscount_book *b, const uint64_t *tab, uint64_t now,
			  uint32_t *give_back)
{
	size_t n = 0;
	memset(b->seen, 0, b->nslots);
	for (uint32_t i = 0; i < SYSCOUNT_TAB_SIZE; i++) {
		uint64_t e = __atomic_load_n(&tab[i], __ATOMIC_RELAXED);
		uint32_t slot = e & 0xffff;
		if (!e || e == SYSCOUNT_TAB_TOMB || !slot || slot >= b->nslots)
			continue;
		b->seen[slot] = 1;
		if (!b->slot_id[slot])
			b->nfree--;
		/* The table is the truth: a slot it names is not given back,
		 * whatever we thought (a record missed, events_lost). */
		if (b->slot_id[slot] != e >> 16)
			b->changes++;
		b->slot_id[slot] = e >> 16;
		b->cool_from[slot] = 0;
	}
	for (uint32_t slot = 1; slot < b->nslots; slot++) {
		if (!b->slot_id[slot] || b->seen[slot])
			continue;
		if (!b->cool_from[slot])
			b->cool_from[slot] = now ? now : 1; /* its entry left: cool */
		else if (now - b->cool_from[slot] >= SYSCOUNT_COOL_NS)
			give_back[n++] = slot;
	}
	return n;
}

void syscount_book_given_back(struct syscount_book *b, uint32_t slot, bool pushed)
{
	b->slot_id[slot] = 0;
	b->cool_from[slot] = 0;
	b->changes++;
	if (pushed)
		b->nfree++;
}

uint32_t syscount_book_used(const struct syscount_book *b)
{
	uint32_t used = 0;
	for (uint32_t i = 1; i < b->nslots; i++)
		used += b->slot_id[i] != 0;
	return used;
}
