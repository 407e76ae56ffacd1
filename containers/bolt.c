// SPDX-License-Identifier: Apache-2.0
/*
 * Read-only lookups in a bbolt database (the key/value store of Podman's
 * libpod state, bolt_state.db, and of containerd's metadata, meta.db),
 * enough to read a value at a path of nested buckets.
 *
 * The format (go.etcd.io/bbolt): pages of page_size bytes; page 0 and 1
 * are meta pages (the valid one with the higher txid holds the root
 * bucket); a page starts with {id u64, flags u16, count u16, overflow u32}
 * and overflow more pages follow it contiguously.  A branch page holds
 * count {pos u32, ksize u32, pgid u64} elements, a leaf page count
 * {flags u32, pos u32, ksize u32, vsize u32} elements (flags 1: the value
 * is a bucket); pos is from the element itself.  A bucket value is {root
 * pgid u64, sequence u64}; root 0 means the bucket's page follows inline.
 *
 * The engine writes the file while we read it: everything is read with
 * pread (no mmap, so a file truncated meanwhile cannot fault us), every
 * offset is bounds-checked, the depth is limited, and an inconsistent page
 * just means "not found".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "oci.h"
#include "../lib/lib.h"

#define BOLT_MAGIC 0xED0CDAEDu
#define P_BRANCH 0x01
#define P_LEAF 0x02
#define P_META 0x04
#define LEAF_BUCKET 0x01
#define HDR 16		     /* page header */
#define ELEM 16		     /* branch and leaf elements are 16 bytes */
#define MAX_DEPTH 16	     /* tree levels walked */
#define MAX_PAGE (16u << 20) /* a page with its overflow */

struct bolt {
	int fd;
	uint64_t size;
	uint32_t psize;
	uint64_t root;
};

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static bool read_at(const struct bolt *b, uint64_t off, void *buf, size_t len)
{
	if (off > b->size || len > b->size - off)
		return false;
	size_t done = 0;
	while (done < len) {
		ssize_t r = pread(b->fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return false;
		}
		done += (size_t)r;
	}
	return true;
}

/* A page with its overflow pages, malloc'ed; *len its bytes. */
static uint8_t *read_page(const struct bolt *b, uint64_t pgid, size_t *len)
{
	uint8_t hdr[HDR];
	if (pgid < 2 || !read_at(b, pgid * b->psize, hdr, sizeof(hdr)))
		return NULL;
	uint64_t n = ((uint64_t)get32(hdr + 12) + 1) * b->psize;
	if (n > MAX_PAGE)
		return NULL;
	uint8_t *p = xmalloc(n);
	if (!read_at(b, pgid * b->psize, p, n)) {
		free(p);
		return NULL;
	}
	*len = n;
	return p;
}

/* FNV-1a 64 of the meta before its checksum, as bbolt computes it. */
static uint64_t fnv64a(const uint8_t *p, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static bool open_meta(struct bolt *b)
{
	uint64_t best_tx = 0;
	bool found = false;
	/* page sizes: try the first meta's own word, then the common ones */
	uint8_t m[HDR + 64];
	if (!read_at(b, 0, m, sizeof(m)))
		return false;
	uint32_t psize = get32(m + HDR + 8);
	if (psize < 1024 || psize > (1u << 16) || (psize & (psize - 1)))
		psize = 4096;
	for (int i = 0; i < 2; i++) {
		if (!read_at(b, (uint64_t)i * psize, m, sizeof(m)))
			continue;
		const uint8_t *meta = m + HDR;
		if (!(get16(m + 8) & P_META) || get32(meta) != BOLT_MAGIC || get32(meta + 4) != 2)
			continue;
		/* magic, version, pageSize, flags, root{pgid,seq}, freelist, pgid, txid, checksum */
		if (fnv64a(meta, 56) != get64(meta + 56))
			continue;
		uint64_t tx = get64(meta + 48);
		if (!found || tx > best_tx) {
			best_tx = tx;
			b->root = get64(meta + 16);
			b->psize = get32(meta + 8);
			found = true;
		}
	}
	return found && b->psize == psize;
}

/*
 * Find key in the bucket whose node is node (an inline page, or NULL to read
 * page pgid).  The value (malloc'ed) goes to *val, its flags to *flags.
 */
static bool node_find(const struct bolt *b, const uint8_t *node, size_t nlen, uint64_t pgid,
		      const char *key, size_t klen, uint8_t **val, size_t *vlen, uint32_t *flags,
		      int depth)
{
	uint8_t *own = NULL;
	if (depth > MAX_DEPTH)
		return false;
	if (!node) {
		own = read_page(b, pgid, &nlen);
		if (!own)
			return false;
		node = own;
	}
	bool ok = false;
	if (nlen < HDR)
		goto out;
	uint16_t pflags = get16(node + 8), count = get16(node + 10);
	if ((size_t)count * ELEM > nlen - HDR)
		goto out;
	if (pflags & P_BRANCH) {
		/* the last element whose key is <= key */
		uint64_t child = 0;
		for (uint16_t i = 0; i < count; i++) {
			const uint8_t *e = node + HDR + (size_t)i * ELEM;
			uint64_t pos = (uint64_t)(e - node) + get32(e), ks = get32(e + 4);
			if (pos + ks > nlen)
				goto out;
			size_t m = ks < klen ? ks : klen;
			int c = memcmp(node + pos, key, m);
			if (c > 0 || (c == 0 && ks > klen))
				break;
			child = get64(e + 8);
		}
		if (child)
			ok = node_find(b, NULL, 0, child, key, klen, val, vlen, flags, depth + 1);
	} else if (pflags & P_LEAF) {
		for (uint16_t i = 0; i < count && !ok; i++) {
			const uint8_t *e = node + HDR + (size_t)i * ELEM;
			uint64_t pos = (uint64_t)(e - node) + get32(e + 4);
			uint64_t ks = get32(e + 8), vs = get32(e + 12);
			if (pos + ks + vs > nlen)
				goto out;
			if (ks != klen || memcmp(node + pos, key, klen))
				continue;
			*val = xmalloc(vs + 1);
			memcpy(*val, node + pos + ks, vs);
			(*val)[vs] = 0;
			*vlen = vs;
			*flags = get32(e);
			ok = true;
		}
	}
out:
	free(own);
	return ok;
}

char *bolt_get(int hostfd, const char *file, const char *const *keys, size_t nkeys, size_t *len)
{
	struct bolt b = {.fd = -1};
	struct stat st;
	b.fd = ctw_open_file_in_root(hostfd, file, 0, &st);
	if (b.fd < 0)
		return NULL;
	b.size = (uint64_t)st.st_size;
	char *out = NULL;
	if (!nkeys || !open_meta(&b))
		goto done;
	/* the current bucket: a page, or an inline page held in ibuf */
	uint64_t pgid = b.root;
	uint8_t *ibuf = NULL;
	size_t ilen = 0;
	for (size_t i = 0; i < nkeys; i++) {
		uint8_t *val = NULL;
		size_t vlen = 0;
		uint32_t flags = 0;
		bool hit = node_find(&b, ibuf ? ibuf + 16 : NULL, ibuf ? ilen - 16 : 0, pgid,
				     keys[i], strlen(keys[i]), &val, &vlen, &flags, 0);
		free(ibuf);
		ibuf = NULL;
		if (!hit)
			break;
		bool last = i + 1 == nkeys;
		if (last) {
			if (!(flags & LEAF_BUCKET)) {
				out = (char *)val;
				if (len)
					*len = vlen;
			} else {
				free(val);
			}
			break;
		}
		if (!(flags & LEAF_BUCKET) || vlen < 16) {
			free(val);
			break;
		}
		pgid = get64(val);
		if (pgid == 0) { /* inline bucket: its page follows the header */
			ibuf = val;
			ilen = vlen;
		} else {
			free(val);
		}
	}
	free(ibuf);
done:
	close(b.fd);
	return out;
}
