// SPDX-License-Identifier: Apache-2.0
/* Which gzip the next scrape gets (see gz_choice.h). */
#include "gz_choice.h"

bool gz_choice_units(const struct gz_choice *g)
{
	return g->pay || g->wait == 0;
}

void gz_choice_whole_done(struct gz_choice *g)
{
	g->fresh = false;
	if (g->wait)
		g->wait--;
}

void gz_choice_units_done(struct gz_choice *g, bool ok, size_t reused, size_t compressed)
{
	bool judged = g->fresh, paid = ok && reused >= compressed;
	g->fresh = ok;
	g->pay = paid || (ok && !judged);
	if (paid && judged)
		g->backoff = 0;
	if (!g->pay) {
		g->wait = g->backoff;
		g->backoff = !g->backoff		       ? 1
			     : g->backoff < GZ_CHOICE_MAX_WAIT ? 2 * g->backoff
							       : GZ_CHOICE_MAX_WAIT;
	}
}
