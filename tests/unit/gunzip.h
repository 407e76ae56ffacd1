/* SPDX-License-Identifier: Apache-2.0 */
/* For unit tests (after cmocka.h and zlib.h): inflate one gzip member of
 * at most 1 MiB, its CRC and size checked, all of it consumed; the caller
 * frees the result. */
#ifndef CTW_TEST_GUNZIP_H
#define CTW_TEST_GUNZIP_H

static char *gunzip(const char *z, size_t zl, size_t *outl)
{
	z_stream zs = {0};
	size_t cap = 1 << 20;
	char *out = malloc(cap);
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (Bytef *)z;
	zs.avail_in = (uInt)zl;
	zs.next_out = (Bytef *)out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END); /* CRC and size checked */
	assert_int_equal(zs.avail_in, 0);
	*outl = zs.total_out;
	inflateEnd(&zs);
	return out;
}

#endif
