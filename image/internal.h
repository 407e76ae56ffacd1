/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of image/ shared between its files; other modules use image.h.
 */
#ifndef CTW_IMAGE_INTERNAL_H
#define CTW_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "image.h"

#define SHA256_HEX_LEN 64
#define DIGEST_LEN (7 + SHA256_HEX_LEN + 1) /* "sha256:" + hex + NUL */

/* archive_dl.c: libarchive, loaded on first use (lib.h) */
extern struct ctw_dl_lib ctw_libarchive;

/* ---- digest.c: sha256 (OpenSSL libcrypto) ---- */
struct sha256 {
	void *ctx; /* EVP_MD_CTX */
};
void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Finish into "sha256:<hex>" (buf >= DIGEST_LEN) and free the context. */
void sha256_final(struct sha256 *h, char *digest);
void sha256_fini(struct sha256 *h); /* abandon; safe after final */
void sha256_buf(const void *data, size_t len, char *digest);
int sha256_file(const char *path, char *digest, uint64_t *size);
/* Accept "sha256:<64 lowercase hex>" only; returns the hex part or NULL. */
const char *digest_hex(const char *digest);

/* ---- store.c: paths, the writer lock, records ---- */
const char *store_root(const char *root); /* root ?: ctw_root_dir() */
/* Create ROOT/{layers/sha256,images,tmp}; the root 0700 (ctw_private_dir). */
int store_init(const char *root, struct ctw_err *err);
/* Take the writer lock (blocking); returns the fd to close. */
int store_lock(const char *root, struct ctw_err *err);
void store_unlock(int fd);
char *store_layer_dir(const char *root, const char *diffid);
bool store_layer_exists(const char *root, const char *diffid);
/* A fresh empty directory under ROOT/tmp (caller frees the path). */
int store_mktemp(const char *root, const char *what, char **path, struct ctw_err *err);
/* Move a verified layer into place under the lock (or drop the temporary
 * copy when another writer got there first). */
int store_layer_commit(const char *root, const char *tmpdir, const char *diffid,
		       struct ctw_err *err);
/* Record an image (the lock must be held): config is the OCI config blob
 * (its sha256 is the id), diffids bottom first; name may be NULL. */
int store_image_add(const char *root, const char *config_blob, size_t config_len, const char *name,
		    char *id_out, struct ctw_err *err);
/* The image record (JSON) of a reference: name[:tag], id or id prefix. */
int store_image_lookup(const char *root, const char *ref, json_t **rec_out, struct ctw_err *err);
/* Are all the record's layers in the store? */
bool store_image_complete(const char *root, json_t *rec);
json_t *store_index_load(const char *root);
int store_index_save(const char *root, json_t *index);
uint64_t store_dir_size(const char *dir);

/* ---- layer.c: safe extraction of one layer tar (gzip or plain) ---- */
struct layer_result {
	char digest[DIGEST_LEN]; /* sha256 of the blob as read */
	char diffid[DIGEST_LEN]; /* sha256 of the uncompressed tar */
	uint64_t size;		 /* bytes read from the blob */
};
/* Extract blob_path into dest (an existing empty directory).  Whiteouts
 * become overlay whiteouts; entries escaping dest fail the layer. */
int layer_extract(const char *blob_path, const char *dest, struct layer_result *res,
		  struct ctw_err *err);
/* Only hash the blob (compressed digest) and its uncompressed content. */
int layer_hash(const char *blob_path, struct layer_result *res, struct ctw_err *err);
/* Extract into a temporary dir of the store and verify (name, may be NULL,
 * is what error messages call the blob when it has no digest); verify against want_digest
 * (NULL: no check) and want_diffid (NULL: no check); diffid_out gets the
 * key.  *tmp_out is the directory to commit with store_layer_commit(), or
 * NULL when the layer is already stored (then it is only verified). */
int layer_prepare(const char *root, const char *blob_path, const char *name,
		  const char *want_digest, const char *want_diffid, char *diffid_out,
		  char **tmp_out, struct ctw_err *err);

/* ---- busybox.c ---- */
int busybox_build(const char *root, struct ctw_err *err);
/* This machine's OCI architecture name: "amd64", "arm64", ... */
const char *image_oci_arch(void);

/* ---- config.c ---- */
void image_strv_free(char **v); /* NULL-terminated; NULL ok */
int image_config_from_json(json_t *cfg_doc, struct ctw_image_config *cfg, struct ctw_err *err);

#endif /* CTW_IMAGE_INTERNAL_H */
