// SPDX-License-Identifier: Apache-2.0
/*
 * The items of an event: what the kernel side captured besides the
 * registers (strings, structs, buffers, each tagged with its argument and
 * whether it was read at enter or at exit).  Every decoder reads them, so
 * this is a leaf: it knows the event layout (trace.h), nothing of the
 * decoders or the line format.
 */
#include <string.h>

#include "internal.h"

void item_index(struct dctx *d, const void *payload, size_t len)
{
	const uint8_t *p = payload;
	size_t off = 0;

	d->nitems = 0;
	while (off + sizeof(struct ctw_trace_item) <= len && d->nitems < CTW_ITEMS_MAX) {
		const struct ctw_trace_item *it = (const void *)(p + off);

		if (off + sizeof(*it) + it->len > len)
			break;
		if (it->arg <= TRACE_NARGS) /* TRACE_NARGS: about the return value */
			d->items[d->nitems++] = it;
		off += sizeof(*it) + ((it->len + 7u) & ~7u);
	}
}

const void *item_get(const struct dctx *d, int arg, unsigned kind, bool at_exit,
		     const struct ctw_trace_item **itp)
{
	unsigned want = kind | (at_exit ? TRACE_ITEM_EXIT : 0);

	for (unsigned n = d->nitems; n-- > 0;) {
		const struct ctw_trace_item *it = d->items[n];

		if (it->arg == arg && (it->kind & (TRACE_ITEM_KIND | TRACE_ITEM_EXIT)) == want) {
			if (itp)
				*itp = it;
			return it + 1;
		}
	}
	if (itp)
		*itp = NULL;
	return NULL;
}

const void *item_nth(const struct dctx *d, int arg, unsigned kind, bool at_exit, uint32_t index,
		     const struct ctw_trace_item **itp)
{
	unsigned want = kind | (at_exit ? TRACE_ITEM_EXIT : 0);

	for (unsigned n = 0; n < d->nitems; n++) {
		const struct ctw_trace_item *it = d->items[n];

		if (it->arg == arg && (it->kind & (TRACE_ITEM_KIND | TRACE_ITEM_EXIT)) == want &&
		    it->full_len == index) {
			if (itp)
				*itp = it;
			return it + 1;
		}
	}
	if (itp)
		*itp = NULL;
	return NULL;
}

bool item_copy(const struct dctx *d, int arg, unsigned kind, bool at_exit, void *dst, size_t size,
	       size_t min)
{
	const struct ctw_trace_item *it;
	const void *data = item_get(d, arg, kind, at_exit, &it);

	if (!data || it->len < min)
		return false;
	memset(dst, 0, size);
	memcpy(dst, data, it->len < size ? it->len : size);
	return true;
}
