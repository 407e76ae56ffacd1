// SPDX-License-Identifier: Apache-2.0
/* Unit tests for the builder's blocks and segments (exporters/metrics.c) and
 * the gzip cache that reuses unchanged units (exporters/gzcache.c). */
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
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "../../exporters/exporters.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A block renders exactly what the same samples made one by one render. */
static void test_block_same_text(void **state)
{
	static const double b[] = {0.1, 1};
	static const uint64_t cnt[] = {1, 2, 3};
	struct ctw_metrics *x = ctw_metrics_new(0), *y = ctw_metrics_new(0);
	ctw_metrics_family(x, "s_total", CTW_COUNTER, "S");
	ctw_metrics_family(y, "s_total", CTW_COUNTER, "S");
	assert_true(ctw_metrics_block(x, L("container", "we\"b", "pod", "p")));
	assert_true(ctw_metrics_block_sample(x, "syscall", "read", 3));
	assert_true(ctw_metrics_block_sample(x, "syscall", "wr\\ite", 4));
	assert_true(ctw_metrics_block_sample(x, NULL, NULL, 5));
	assert_true(
		ctw_metrics_sample(y, L("container", "we\"b", "pod", "p", "syscall", "read"), 3));
	assert_true(ctw_metrics_sample(y, L("container", "we\"b", "pod", "p", "syscall", "wr\\ite"),
				       4));
	assert_true(ctw_metrics_sample(y, L("container", "we\"b", "pod", "p"), 5));
	ctw_metrics_family(x, "h_seconds", CTW_HISTOGRAM, "H");
	ctw_metrics_family(y, "h_seconds", CTW_HISTOGRAM, "H");
	assert_true(ctw_metrics_block(x, L("container", "c")));
	assert_true(ctw_metrics_block_histogram(x, "direction", "active", b, cnt, 2, 1.5));
	assert_true(ctw_metrics_block_histogram(x, NULL, NULL, b, cnt, 2, 1.5));
	assert_true(ctw_metrics_histogram(y, L("container", "c", "direction", "active"), b, cnt, 2,
					  1.5));
	assert_true(ctw_metrics_histogram(y, L("container", "c"), b, cnt, 2, 1.5));
	assert_string_equal(ctw_metrics_text(x, NULL), ctw_metrics_text(y, NULL));
	/* spelled out: a value escaped, one not, a histogram's le lines */
	const char *t = ctw_metrics_text(x, NULL);
	assert_non_null(strstr(t, "s_total{container=\"we\\\"b\",pod=\"p\",syscall=\"read\"} 3\n"));
	assert_non_null(
		strstr(t, "s_total{container=\"we\\\"b\",pod=\"p\",syscall=\"wr\\\\ite\"} 4\n"));
	assert_non_null(strstr(t, "\ns_total{container=\"we\\\"b\",pod=\"p\"} 5\n"));
	assert_non_null(
		strstr(t, "h_seconds_bucket{container=\"c\",direction=\"active\",le=\"0.1\"} 1\n"));
	assert_non_null(strstr(t, "h_seconds_bucket{container=\"c\",le=\"+Inf\"} 6\n"));
	assert_non_null(strstr(
		t, "h_seconds_sum{container=\"c\"} 1.5\nh_seconds_count{container=\"c\"} 6\n"));
	assert_int_equal(ctw_metrics_series(x), ctw_metrics_series(y));
	ctw_metrics_free(x);
	ctw_metrics_free(y);
}

/* Bucket lines, spelled out, for every shape of their prefix: labels and an
 * extra label, either alone, none; an escaped value; the largest count. */
static void test_histogram_lines(void **state)
{
	(void)state;
	static const double b[] = {0.5};
	static const uint64_t cnt[] = {UINT64_MAX - 1, 1};
	struct ctw_metrics *m = ctw_metrics_new(0);
	ctw_metrics_family(m, "h", CTW_HISTOGRAM, "H");
	assert_true(ctw_metrics_block(m, L("c", "x")));
	assert_true(ctw_metrics_block_histogram(m, "d", "a\"b", b, cnt, 1, 2));
	assert_true(ctw_metrics_block_histogram(m, NULL, NULL, b, cnt, 1, 2));
	assert_true(ctw_metrics_block(m, (const char *const[]){NULL}));
	assert_true(ctw_metrics_block_histogram(m, "d", "e", b, cnt, 1, 0.25));
	assert_true(ctw_metrics_block_histogram(m, NULL, NULL, b, cnt, 1, 0.25));
	assert_string_equal(ctw_metrics_text(m, NULL),
			    "# HELP h H\n# TYPE h histogram\n"
			    "h_bucket{c=\"x\",d=\"a\\\"b\",le=\"0.5\"} 18446744073709551614\n"
			    "h_bucket{c=\"x\",d=\"a\\\"b\",le=\"+Inf\"} 18446744073709551615\n"
			    "h_sum{c=\"x\",d=\"a\\\"b\"} 2\n"
			    "h_count{c=\"x\",d=\"a\\\"b\"} 18446744073709551615\n"
			    "h_bucket{c=\"x\",le=\"0.5\"} 18446744073709551614\n"
			    "h_bucket{c=\"x\",le=\"+Inf\"} 18446744073709551615\n"
			    "h_sum{c=\"x\"} 2\n"
			    "h_count{c=\"x\"} 18446744073709551615\n"
			    "h_bucket{d=\"e\",le=\"0.5\"} 18446744073709551614\n"
			    "h_bucket{d=\"e\",le=\"+Inf\"} 18446744073709551615\n"
			    "h_sum{d=\"e\"} 0.25\n"
			    "h_count{d=\"e\"} 18446744073709551615\n"
			    "h_bucket{le=\"0.5\"} 18446744073709551614\n"
			    "h_bucket{le=\"+Inf\"} 18446744073709551615\n"
			    "h_sum 0.25\n"
			    "h_count 18446744073709551615\n");
	ctw_metrics_free(m);
}

/* The builder's guarantees hold for blocks: duplicates (across blocks and
 * against loose samples, whatever the label order), invalid labels, the cap,
 * samples with no open block. */
static void test_block_checks(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(5);
	ctw_metrics_family(m, "s_total", CTW_COUNTER, "S");
	assert_false(ctw_metrics_block_sample(m, "syscall", "read", 1)); /* no block */
	assert_true(ctw_metrics_sample(m, L("syscall", "read", "container", "a"), 1));
	assert_true(ctw_metrics_block(m, L("container", "a")));
	assert_false(ctw_metrics_block_sample(m, "syscall", "read", 2)); /* duplicate */
	assert_true(ctw_metrics_block_sample(m, "syscall", "write", 2));
	assert_false(ctw_metrics_block_sample(m, "syscall", "write", 2));
	assert_false(ctw_metrics_block_sample(m, "container", "b", 2)); /* label twice */
	assert_false(ctw_metrics_block_sample(m, "__x", "b", 2));
	assert_false(ctw_metrics_block_sample(m, "syscall", NULL, 2));
	assert_true(ctw_metrics_block(m, L("container", "b")));
	assert_true(ctw_metrics_block_sample(m, "syscall", "read", 3));
	assert_false(ctw_metrics_block(m, L("container", "b", "container", "c")));
	assert_false(ctw_metrics_block_sample(m, NULL, NULL, 1)); /* the bad block's */
	ctw_metrics_sample(m, L("z", "1"), 1);			  /* ends the block */
	assert_false(ctw_metrics_block_sample(m, "syscall", "open", 1));
	assert_true(ctw_metrics_block(m, L("container", "c")));
	assert_true(ctw_metrics_block_sample(m, "syscall", "read", 4));
	assert_false(ctw_metrics_block_sample(m, "syscall", "open", 4)); /* cap: 5 */
	assert_int_equal(ctw_metrics_series(m), 5);
	assert_int_equal(ctw_metrics_dropped(m), 1);
	assert_int_equal(ctw_metrics_duplicates(m), 2);
	assert_int_equal(ctw_metrics_invalid(m), 7);
	/* le is the histogram's own label */
	ctw_metrics_family(m, "h", CTW_HISTOGRAM, "H");
	assert_false(ctw_metrics_block(m, L("le", "1")));
	ctw_metrics_free(m);
}

/* Each segment's hash is XXH3-64 of its bytes (the builder takes it as it
 * writes; the gzip cache trusts it instead of reading the text again). */
static void assert_seg_hashes(const char *t, size_t len, const struct ctw_metrics_seg *sg, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t end = i + 1 < n ? sg[i + 1].off : len;
		uint64_t h = XXH3_64bits(t + sg[i].off, end - sg[i].off);
		assert_true(sg[i].hash == (h ? h : 1));
	}
}

/* A family declared again after another one: its later samples are joined
 * after its first ones, and the segments still tile the text in order. */
static void test_family_again_segments(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(0);
	ctw_metrics_family(m, "a", CTW_GAUGE, "A");
	ctw_metrics_block(m, L("c", "1"));
	ctw_metrics_block_sample(m, NULL, NULL, 1);
	ctw_metrics_family(m, "b", CTW_GAUGE, "B");
	ctw_metrics_sample(m, NULL, 2);
	ctw_metrics_family(m, "a", CTW_GAUGE, "A");
	ctw_metrics_block(m, L("c", "2"));
	ctw_metrics_block_sample(m, NULL, NULL, 3);
	ctw_metrics_sample(m, L("c", "3"), 4);
	size_t len, n;
	char *t = ctw_metrics_take_text(m, &len);
	assert_string_equal(t,
			    "# HELP a A\n# TYPE a gauge\na{c=\"1\"} 1\na{c=\"2\"} 3\na{c=\"3\"} 4\n"
			    "# HELP b B\n# TYPE b gauge\nb 2\n");
	struct ctw_metrics_seg *sg = ctw_metrics_take_segments(m, &n);
	assert_int_equal(n, 6); /* a: header, 2 blocks, a loose run; b: header, a loose run */
	assert_true(sg[0].family_start && !sg[1].family_start && !sg[2].family_start);
	assert_true(!sg[3].family_start && sg[4].family_start && !sg[5].family_start);
	assert_true(!strncmp(t + sg[1].off, "a{c=\"1\"}", 8));
	assert_true(!strncmp(t + sg[2].off, "a{c=\"2\"}", 8));
	assert_true(!strncmp(t + sg[3].off, "a{c=\"3\"}", 8));
	assert_true(!strncmp(t + sg[5].off, "b 2", 3));
	assert_seg_hashes(t, len, sg, n);
	free(t);
	free(sg);
	ctw_metrics_free(m);
}

/* 300 containers' blocks in two families plus loose samples. */
static void build(struct ctw_metrics *m, int changed)
{
	char name[32];
	ctw_metrics_reset(m, 0);
	ctw_metrics_family(m, "ctrwatch_syscalls_total", CTW_COUNTER, "Syscalls.");
	for (int c = 0; c < 300; c++) {
		snprintf(name, sizeof(name), "container-%d", c);
		ctw_metrics_block(m, L("container", name));
		ctw_metrics_block_sample(m, "syscall", "read", c == changed ? 1000 + c : c);
		ctw_metrics_block_sample(m, "syscall", "write", 2 * c);
	}
	ctw_metrics_family(m, "ctrwatch_container_pids", CTW_GAUGE, "Tasks.");
	for (int c = 0; c < 300; c++) {
		snprintf(name, sizeof(name), "container-%d", c);
		ctw_metrics_block(m, L("container", name));
		ctw_metrics_block_sample(m, NULL, NULL, c % 7);
	}
	ctw_metrics_family(m, "ctrwatch_containers", CTW_GAUGE, "Containers.");
	ctw_metrics_sample(m, NULL, 300);
}

static void build_n(struct ctw_metrics *m, int n, int changed, bool again);

static void assert_segs_equal(const struct ctw_metrics_seg *a, size_t na,
			      const struct ctw_metrics_seg *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_true(a[i].id == b[i].id && a[i].off == b[i].off);
		assert_true(a[i].hash == b[i].hash);
		assert_true(a[i].family_start == b[i].family_start);
	}
}

/* The segment array given back is the next build's (the same memory), and
 * that build's segments are the same as a fresh builder's; with a family
 * declared again (the joined segments) too.  Anything else given back is
 * freed (ASan: no leak, no double free). */
static void test_segments_given_back(void **state)
{
	(void)state;
	for (int again = 0; again < 2; again++) {
		struct ctw_metrics *m = ctw_metrics_new(0);
		build_n(m, 300, -1, again);
		size_t len0, n0;
		char *t0 = ctw_metrics_take_text(m, &len0);
		struct ctw_metrics_seg *s0 = ctw_metrics_take_segments(m, &n0);
		struct ctw_metrics_seg *copy = malloc(n0 * sizeof(*copy));
		memcpy(copy, s0, n0 * sizeof(*copy));
		for (int round = 0; round < 3; round++) {
			ctw_metrics_give_back_segments(m, s0);
			ctw_metrics_reset(m, 0);
			build_n(m, 300, -1, again);
			size_t len, n;
			char *t = ctw_metrics_take_text(m, &len);
			struct ctw_metrics_seg *sg = ctw_metrics_take_segments(m, &n);
			assert_ptr_equal(sg, s0);
			assert_int_equal(len, len0);
			assert_memory_equal(t, t0, len0);
			assert_segs_equal(sg, n, copy, n0);
			free(t);
		}
		/* not the array lent last: freed, and the builder keeps its own */
		ctw_metrics_give_back_segments(m, malloc(64));
		ctw_metrics_give_back_segments(m, NULL);
		ctw_metrics_give_back_segments(m, s0);
		ctw_metrics_give_back_segments(m, malloc(64)); /* it has one now */
		free(copy);
		free(t0);
		ctw_metrics_free(m);
	}
}

/* A text built into a reserved buffer (bigger, smaller, none) is the same
 * text with the same segments. */
static void test_reserve_same_text(void **state)
{
	(void)state;
	struct ctw_metrics *m = ctw_metrics_new(0);
	build(m, -1);
	size_t len0, n0;
	char *t0 = ctw_metrics_take_text(m, &len0);
	struct ctw_metrics_seg *s0 = ctw_metrics_take_segments(m, &n0);
	const size_t sizes[] = {len0 * 2, len0 + 1, len0 / 3, 10};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		ctw_metrics_reset(m, 0);
		ctw_metrics_reserve(m, sizes[k]);
		build(m, -1);
		size_t len, n;
		char *t = ctw_metrics_take_text(m, &len);
		struct ctw_metrics_seg *sg = ctw_metrics_take_segments(m, &n);
		assert_int_equal(len, len0);
		assert_memory_equal(t, t0, len0);
		assert_int_equal(t[len], '\0');
		assert_segs_equal(sg, n, s0, n0);
		free(t);
		free(sg);
	}
	free(t0);
	free(s0);
	ctw_metrics_free(m);
}

/* Segments tile the text; gzip of the units round-trips (one gzip member,
 * CRC and size right); the next text with one container changed reuses all
 * units but the one holding that container's block; the same text reuses
 * every unit. */
static void test_gzcache_reuse(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(0);
	struct ctw_gzcache *c = ctw_gzcache_new();
	size_t reused, compressed, first_units = 0;
	for (int round = 0; round < 4; round++) {
		int changed = round == 2 ? 123 : -1;
		build(m, changed);
		size_t len, nsegs;
		char *t = ctw_metrics_take_text(m, &len);
		struct ctw_metrics_seg *segs = ctw_metrics_take_segments(m, &nsegs);
		/* 3 headers, 600 blocks, 1 loose run */
		assert_int_equal(nsegs, 3 + 600 + 1);
		assert_int_equal(segs[0].off, 0);
		for (size_t i = 1; i < nsegs; i++) {
			assert_true(segs[i].off > segs[i - 1].off);
			assert_true(t[segs[i].off - 1] == '\n');
		}
		assert_true(segs[0].family_start && segs[301].family_start);
		assert_false(segs[1].family_start);
		assert_seg_hashes(t, len, segs, nsegs);
		char *z;
		size_t zl, ul;
		assert_int_equal(ctw_gzcache_compress(c, t, len, segs, nsegs, &z, &zl), 0);
		char *u = gunzip(z, zl, &ul);
		assert_int_equal(ul, len);
		assert_memory_equal(u, t, len);
		ctw_gzcache_stats(c, &reused, &compressed);
		if (round == 0) {
			assert_int_equal(reused, 0);
			first_units = compressed;
			assert_true(first_units > 3 && first_units < 100);
		} else if (round == 2) {
			assert_int_equal(compressed, 1);
			assert_int_equal(reused + 1, first_units);
		} else {
			/* round 1: as round 0; round 3: back to round 1's text,
			 * whose changed unit round 2 replaced */
			assert_int_equal(compressed, round == 3 ? 1 : 0);
			assert_int_equal(reused + compressed, first_units);
		}
		free(u);
		free(z);
		free(t);
		free(segs);
	}
	/* without segments: one unit, still a valid gzip */
	char *z;
	size_t zl, ul;
	assert_int_equal(ctw_gzcache_compress(c, "abc\n", 4, NULL, 0, &z, &zl), 0);
	char *u = gunzip(z, zl, &ul);
	assert_int_equal(ul, 4);
	assert_memory_equal(u, "abc\n", 4);
	free(u);
	free(z);
	assert_int_equal(ctw_gzcache_compress(c, "", 0, NULL, 0, &z, &zl), 0);
	u = gunzip(z, zl, &ul);
	assert_int_equal(ul, 0);
	free(u);
	free(z);
	ctw_gzcache_free(c);
	ctw_metrics_free(m);
}

/* n containers' blocks in two families, loose samples; `again`: the first
 * family declared again at the end (its side body joined in). */
static void build_n(struct ctw_metrics *m, int n, int changed, bool again)
{
	char name[32];
	ctw_metrics_reset(m, 0);
	ctw_metrics_family(m, "ctrwatch_syscalls_total", CTW_COUNTER, "Syscalls.");
	for (int c = 0; c < n; c++) {
		snprintf(name, sizeof(name), "container-%d", c);
		ctw_metrics_block(m, L("container", name, "pod", "some-pod-name"));
		ctw_metrics_block_sample(m, "syscall", "read", c == changed ? 1000 + c : c);
		ctw_metrics_block_sample(m, "syscall", "write", 2 * c);
	}
	ctw_metrics_family(m, "ctrwatch_container_pids", CTW_GAUGE, "Tasks.");
	for (int c = 0; c < n; c++) {
		snprintf(name, sizeof(name), "container-%d", c);
		ctw_metrics_block(m, L("container", name));
		ctw_metrics_block_sample(m, NULL, NULL, c % 7);
	}
	ctw_metrics_family(m, "ctrwatch_containers", CTW_GAUGE, "Containers.");
	ctw_metrics_sample(m, NULL, n);
	if (again) {
		ctw_metrics_family(m, "ctrwatch_syscalls_total", CTW_COUNTER, "Syscalls.");
		ctw_metrics_block(m, L("container", "late"));
		ctw_metrics_block_sample(m, "syscall", "read", 1);
		ctw_metrics_sample(m, L("container", "loose"), 2);
	}
}

static char *read_fd(int fd, size_t len)
{
	char *t = malloc(len + 1);
	assert_non_null(t);
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, t + got, len - got, (off_t)got);
		assert_true(r > 0);
		got += (size_t)r;
	}
	char extra;
	assert_int_equal(pread(fd, &extra, 1, (off_t)len), 0); /* nothing after */
	t[len] = '\0';
	return t;
}

/* fd mode (the text drained to a memfd at segment boundaries, 64 KiB at a
 * time) makes the same text with the same segments and hashes as memory
 * mode, small or many drains, with a family declared again (joined into a
 * second memfd) or not, build after build; the gzip cache reading the fd
 * makes the same gzip, reusing the same units; ctw_gzip_fd round-trips. */
static void test_fd_mode_same_text(void **state)
{
	(void)state;
	const int counts[] = {3, 300, 3000};
	for (size_t k = 0; k < 3; k++) {
		for (int again = 0; again < 2; again++) {
			struct ctw_metrics *x = ctw_metrics_new(0), *y = ctw_metrics_new(0);
			struct ctw_gzcache *cx = ctw_gzcache_new(), *cy = ctw_gzcache_new();
			assert_true(ctw_metrics_use_fd(y));
			for (int round = 0; round < 3; round++) {
				int changed = round == 2 ? counts[k] / 2 : -1;
				build_n(x, counts[k], changed, again);
				build_n(y, counts[k], changed, again);
				size_t lx, ly, nx, ny;
				char *tx = ctw_metrics_take_text(x, &lx);
				int fd = ctw_metrics_take_fd(y, &ly);
				assert_true(fd >= 0);
				assert_null(ctw_metrics_text(y, NULL)); /* the text is in fd */
				struct ctw_metrics_seg *sx = ctw_metrics_take_segments(x, &nx);
				struct ctw_metrics_seg *sy = ctw_metrics_take_segments(y, &ny);
				assert_int_equal(ly, lx);
				char *ty = read_fd(fd, ly);
				assert_memory_equal(ty, tx, lx);
				assert_int_equal(ny, nx);
				for (size_t i = 0; i < nx; i++) {
					assert_true(sy[i].id == sx[i].id && sy[i].off == sx[i].off);
					assert_true(sy[i].hash == sx[i].hash);
					assert_true(sy[i].family_start == sx[i].family_start);
				}
				assert_seg_hashes(tx, lx, sx, nx);
				char *zx, *zy;
				size_t zlx, zly, rx, cmx, ry, cmy;
				assert_int_equal(
					ctw_gzcache_compress(cx, tx, lx, sx, nx, &zx, &zlx), 0);
				assert_int_equal(
					ctw_gzcache_compress_fd(cy, fd, ly, sy, ny, &zy, &zly), 0);
				assert_int_equal(zly, zlx);
				assert_memory_equal(zy, zx, zlx);
				ctw_gzcache_stats(cx, &rx, &cmx);
				ctw_gzcache_stats(cy, &ry, &cmy);
				assert_true(rx == ry && cmx == cmy);
				if (round > 0)
					assert_true(ry > 0);
				free(zy);
				assert_int_equal(ctw_gzip_fd(fd, ly, &zy, &zly), 0);
				size_t ul;
				char *u = gunzip(zy, zly, &ul);
				assert_int_equal(ul, lx);
				assert_memory_equal(u, tx, lx);
				free(u);
				free(zx);
				free(zy);
				free(tx);
				free(ty);
				free(sx);
				free(sy);
				close(fd);
			}
			ctw_gzcache_free(cx);
			ctw_gzcache_free(cy);
			ctw_metrics_free(x);
			ctw_metrics_free(y);
		}
	}
}

/* An fd-mode builder reset before its text was taken closes that memfd; a
 * builder with text in memory cannot switch to fd mode. */
static void test_fd_mode_reset(void **state)
{
	(void)state;
	struct ctw_metrics *m = ctw_metrics_new(0);
	ctw_metrics_family(m, "a_total", CTW_COUNTER, "A.");
	ctw_metrics_sample(m, NULL, 1);
	assert_false(ctw_metrics_use_fd(m));
	size_t len;
	assert_int_equal(ctw_metrics_take_fd(m, &len), -EINVAL);
	ctw_metrics_reset(m, 0);
	assert_true(ctw_metrics_use_fd(m));
	build_n(m, 3000, -1, false); /* drained: a memfd open */
	ctw_metrics_reset(m, 0);
	build_n(m, 3, -1, false);
	int fd = ctw_metrics_take_fd(m, &len);
	assert_true(fd >= 0);
	char *t = read_fd(fd, len);
	assert_non_null(strstr(t, "ctrwatch_containers 3\n"));
	free(t);
	close(fd);
	/* a text joined in memory by ctw_metrics_text before anything was
	 * drained stays there: take_fd says so */
	ctw_metrics_reset(m, 0);
	build_n(m, 3, -1, true);
	assert_non_null(ctw_metrics_text(m, &len));
	assert_int_equal(ctw_metrics_take_fd(m, &len), -EINVAL);
	/* an empty text is an empty memfd */
	ctw_metrics_reset(m, 0);
	fd = ctw_metrics_take_fd(m, &len);
	assert_true(fd >= 0);
	assert_int_equal(len, 0);
	close(fd);
	ctw_metrics_free(m);
}

/* The gzip of a builder's memfd made alongside the build (hooked to its
 * drains) is the text; a text that ended in another file (a family
 * declared again: joined into a second memfd) or a failed build is
 * -EXDEV, and the stream is free for the next one. */
static void on_drain(void *gzs, int fd, size_t len)
{
	ctw_gzstream_grow(gzs, fd, len);
}

static void test_gzstream(void **state)
{
	(void)state;
	struct ctw_gzstream *g = ctw_gzstream_new();
	assert_non_null(g);
	struct ctw_metrics *m = ctw_metrics_new(0);
	assert_true(ctw_metrics_use_fd(m));
	const int counts[] = {3000, 3, 0, 3000};
	for (size_t k = 0; k < 4; k++) {
		bool again = k == 3;
		assert_int_equal(ctw_gzstream_begin(g), 0);
		assert_int_equal(ctw_gzstream_begin(g), -EBUSY);
		ctw_metrics_on_drain(m, on_drain, g);
		if (counts[k])
			build_n(m, counts[k], -1, again);
		else
			ctw_metrics_reset(m, 0);
		size_t len, zl, ul;
		int fd = ctw_metrics_take_fd(m, &len);
		assert_true(fd >= 0);
		char *z = NULL;
		int rc = ctw_gzstream_finish(g, fd, len, &z, &zl);
		if (again) {
			assert_int_equal(rc, -EXDEV);
		} else {
			assert_int_equal(rc, 0);
			char *t = read_fd(fd, len), *u = gunzip(z, zl, &ul);
			assert_int_equal(ul, len);
			assert_memory_equal(u, t, len);
			free(t);
			free(u);
			free(z);
		}
		close(fd);
		free(ctw_metrics_take_segments(m, &len));
	}
	assert_int_equal(ctw_gzstream_begin(g), 0);
	char *z;
	size_t zl;
	assert_int_equal(ctw_gzstream_finish(g, -1, 0, &z, &zl), -EXDEV);
	assert_int_equal(ctw_gzstream_finish(g, -1, 0, &z, &zl), -EINVAL); /* not begun */
	ctw_metrics_free(m);
	ctw_gzstream_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_same_text),
		cmocka_unit_test(test_block_checks),
		cmocka_unit_test(test_histogram_lines),
		cmocka_unit_test(test_family_again_segments),
		cmocka_unit_test(test_gzcache_reuse),
		cmocka_unit_test(test_reserve_same_text),
		cmocka_unit_test(test_segments_given_back),
		cmocka_unit_test(test_fd_mode_same_text),
		cmocka_unit_test(test_fd_mode_reset),
		cmocka_unit_test(test_gzstream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
