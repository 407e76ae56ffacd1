// SPDX-License-Identifier: Apache-2.0
/*
 * Prefixes, the leaf every policy stage uses: CIDR parsing, masking,
 * formatting and containment, the FNV-1a hash, and the prefix set the
 * overlap checks (parse.c) and the LPM compiler (compile.c) both fill.
 * Pure: no YAML, no maps, no kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pol_internal.h"

uint64_t pol_fnv1a(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void pfx_mask(uint8_t *addr, int family, int plen)
{
	int bytes = family == AF_INET ? 4 : 16;
	for (int i = 0; i < bytes; i++) {
		int bits = plen - i * 8;
		if (bits >= 8)
			continue;
		addr[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

int ctw_pol_parse_cidr(const char *s, struct ctw_pol_cidr *out, char *why, size_t whylen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int maxlen;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= INET6_ADDRSTRLEN) {
		snprintf(why, whylen, "invalid address '%s'", s);
		return -EINVAL;
	}
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		maxlen = 128;
	} else {
		snprintf(why, whylen, "invalid address '%s'", buf);
		return -EINVAL;
	}
	out->plen = (uint8_t)maxlen;
	if (slash) {
		uint64_t v;
		if (ctw_parse_u64(slash + 1, 0, (uint64_t)maxlen, &v) < 0) {
			snprintf(why, whylen, "invalid prefix length in '%s' (0-%d)", s, maxlen);
			return -EINVAL;
		}
		out->plen = (uint8_t)v;
	}
	uint8_t masked[16];
	memcpy(masked, out->addr, 16);
	pfx_mask(masked, out->family, out->plen);
	if (memcmp(masked, out->addr, 16)) {
		char net[INET6_ADDRSTRLEN];
		inet_ntop(out->family, masked, net, sizeof(net));
		snprintf(why, whylen, "host bits set in '%s' (did you mean %s/%d?)", s, net,
			 out->plen);
		return -EINVAL;
	}
	return 0;
}

void pol_format_cidr(const struct ctw_pol_cidr *c, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(buf, size, "%s/%d", a, c->plen);
}

bool pol_cidr_contains(const struct ctw_pol_cidr *outer, const struct ctw_pol_cidr *inner)
{
	uint8_t a[16];
	if (outer->family != inner->family || outer->plen > inner->plen)
		return false;
	memcpy(a, inner->addr, 16);
	pfx_mask(a, inner->family, outer->plen);
	return !memcmp(a, outer->addr, 16);
}

/* ---- the prefix set ---- */

static uint64_t pfx_hash(const struct pfx_key *k)
{
	return pol_fnv1a(k, sizeof(*k));
}

void pfxset_init(struct pfxset *s, size_t hint)
{
	size_t cap = 16;
	while (cap < hint * 2 + 16)
		cap <<= 1;
	s->tab = xcalloc(cap, sizeof(*s->tab));
	s->cap = cap;
	s->n = 0;
}

void pfxset_fini(struct pfxset *s)
{
	free(s->tab);
	s->tab = NULL;
	s->cap = s->n = 0;
}

static void pfxset_grow(struct pfxset *s)
{
	struct pfxset big;
	pfxset_init(&big, s->cap);
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->tab[i].used)
			continue;
		struct pfx_ent *e = pfxset_get(&big, &s->tab[i].k, true);
		memcpy(e->bits, s->tab[i].bits, sizeof(e->bits));
	}
	free(s->tab);
	*s = big;
}

struct pfx_ent *pfxset_get(struct pfxset *s, const struct pfx_key *k, bool create)
{
	if (create && (s->n + 1) * 2 > s->cap)
		pfxset_grow(s);
	size_t i = pfx_hash(k) & (s->cap - 1);
	for (;;) {
		struct pfx_ent *e = &s->tab[i];
		if (!e->used) {
			if (!create)
				return NULL;
			memset(e, 0, sizeof(*e));
			e->k = *k;
			e->used = true;
			s->n++;
			return e;
		}
		if (!memcmp(&e->k, k, sizeof(*k)))
			return e;
		i = (i + 1) & (s->cap - 1);
	}
}
