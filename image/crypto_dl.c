// SPDX-License-Identifier: Apache-2.0
/* libcrypto (sha256 of blobs), loaded on first use (see lib.h): a run of an
 * existing image never hashes anything. */
#include <openssl/evp.h>

#include "internal.h"

static struct ctw_dl_lib libcrypto = {.soname = "libcrypto.so.3", .package = "libssl3"};
#define L libcrypto

CTW_DL_FN(L, const EVP_MD *, EVP_sha256, (void), ())
CTW_DL_FN(L, EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())
CTW_DL_VOID(L, EVP_MD_CTX_free, (EVP_MD_CTX * ctx), (ctx))
CTW_DL_FN(L, int, EVP_DigestInit_ex, (EVP_MD_CTX * ctx, const EVP_MD *type, ENGINE *impl),
	  (ctx, type, impl))
CTW_DL_FN(L, int, EVP_DigestUpdate, (EVP_MD_CTX * ctx, const void *d, size_t cnt), (ctx, d, cnt))
CTW_DL_FN(L, int, EVP_DigestFinal_ex, (EVP_MD_CTX * ctx, unsigned char *md, unsigned int *s),
	  (ctx, md, s))
