// SPDX-License-Identifier: Apache-2.0
/* sha256 for blob verification and content addresses (OpenSSL libcrypto). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"

void sha256_init(struct sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort(); /* OOM, as xmalloc */
	h->ctx = ctx;
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
	if (len)
		EVP_DigestUpdate(h->ctx, data, len);
}

void sha256_final(struct sha256 *h, char *digest)
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_DigestFinal_ex(h->ctx, md, &n);
	memcpy(digest, "sha256:", 7);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(digest + 7 + 2 * i, 3, "%02x", md[i]);
	sha256_fini(h);
}

void sha256_fini(struct sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void sha256_buf(const void *data, size_t len, char *digest)
{
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, data, len);
	sha256_final(&h, digest);
}

int sha256_fd(int fd, char *digest, uint64_t *size)
{
	struct sha256 h;
	sha256_init(&h);
	char buf[65536];
	uint64_t total = 0;
	for (;;) {
		ssize_t r = pread(fd, buf, sizeof(buf), (off_t)total);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			sha256_fini(&h);
			return -e;
		}
		if (!r)
			break;
		sha256_update(&h, buf, (size_t)r);
		total += (uint64_t)r;
	}
	sha256_final(&h, digest);
	if (size)
		*size = total;
	return 0;
}

int sha256_file(const char *path, char *digest, uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = sha256_fd(fd, digest, size);
	close(fd);
	return r;
}

const char *digest_hex(const char *digest)
{
	if (!digest || strncmp(digest, "sha256:", 7))
		return NULL;
	const char *hex = digest + 7;
	size_t n = strspn(hex, "0123456789abcdef");
	if (n != SHA256_HEX_LEN || hex[n])
		return NULL;
	return hex;
}
