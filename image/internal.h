/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of image/ shared between its files; other modules use image.h.
 */
#ifndef CTW_IMAGE_INTERNAL_H
#define CTW_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
/* The whole file open as fd, read from offset 0 (pread); 0 or -errno. */
int sha256_fd(int fd, char *digest, uint64_t *size);
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
/* A normalized name without docker.io/ and library/ ("busybox:1"): the
 * names Docker takes for one image compare equal in this form. */
const char *image_ref_familiar(const char *name);
/* The image record (JSON) of a reference: name[:tag], id or id prefix;
 * docker.io/[library/] may be left out. */
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
/* The cap on the uncompressed bytes of one import (all its layers): a layer
 * stops with EFBIG once `used` would pass `max` (0: no cap), and no entry may
 * claim more than `max` bytes. */
struct layer_budget {
	uint64_t max, used;
};
/* What the manifest says a blob is; any field may be unknown. */
struct layer_want {
	const char *digest; /* sha256 of the blob, or NULL */
	int64_t size;	    /* bytes of the blob, or -1 */
	const char *diffid; /* sha256 of its uncompressed tar, or NULL */
};
/* Open a blob path for the functions below without blocking (a FIFO is
 * then refused by them, as anything but a regular file). */
int layer_open_blob(const char *path, struct ctw_err *err);
/* Extract the blob (a regular file, read from offset 0) into dest, an
 * existing empty directory.  Whiteouts become overlay whiteouts; entries
 * escaping dest fail the layer.  budget may be NULL (no cap). */
int layer_extract_fd(int fd, const char *dest, struct layer_budget *budget,
		     struct layer_result *res, struct ctw_err *err);
int layer_extract(const char *blob_path, const char *dest, struct layer_budget *budget,
		  struct layer_result *res, struct ctw_err *err);
/* Only hash the blob (compressed digest) and its uncompressed content. */
int layer_hash_fd(int fd, struct layer_budget *budget, struct layer_result *res,
		  struct ctw_err *err);
/* Verify the blob against want before extracting anything (size, digest,
 * or its uncompressed content when only the diff_id is known), then extract
 * it into a temporary dir of the store and check it again; name (may be
 * NULL) is what messages call a blob with no digest.  diffid_out gets the
 * layer's key; *tmp_out is the directory to commit with store_layer_commit(),
 * or NULL when the store has the layer already (then it is only verified). */
int layer_prepare(const char *root, int fd, const char *name, const struct layer_want *want,
		  struct layer_budget *budget, char *diffid_out, char **tmp_out,
		  struct ctw_err *err);
/* Is this extended attribute of a layer entry applied?  (See layer.c.) */
bool layer_xattr_allowed(const char *name);
/* "a FIFO", "a character device", ... for messages. */
const char *layer_file_type(mode_t mode);
/* "64 MiB", "2 GiB" or "1000 bytes". */
void layer_fmt_size(uint64_t n, char *buf, size_t size);

/* ---- oci.c: what an image's JSON documents say (pure; fuzzed) ---- */
#define OCI_MAX_LAYERS 500 /* overlayfs stacks at most 500 lower layers */
struct oci_desc {
	char digest[DIGEST_LEN]; /* "sha256:<hex>" */
	int64_t size;		 /* -1 when the descriptor has none */
	const char *media_type;	 /* borrowed from the JSON, may be NULL */
};
/* Which image of several: --ref, else the tag of the name asked for. */
struct oci_pick {
	const char *ref;       /* may be NULL */
	const char *want_name; /* normalized NAME:TAG, may be NULL */
};
bool oci_is_index(const char *media_type);
int oci_desc_parse(json_t *d, const char *what, struct oci_desc *out, struct ctw_err *err);
/* The descriptor of index.json to import (borrowed), or NULL with err set. */
json_t *oci_index_pick(json_t *index, const struct oci_pick *pick, struct ctw_err *err);
/* The linux/<this arch> manifest of a multi-platform image index. */
json_t *oci_index_platform(json_t *index, struct ctw_err *err);
/* A full reference the descriptor's annotations name (caller frees). */
char *oci_name_from_annotations(json_t *desc);
struct oci_manifest {
	struct oci_desc config;
	struct oci_desc *layers;
	size_t nlayers;
};
int oci_manifest_parse(json_t *man, struct oci_manifest *out, struct ctw_err *err);
void oci_manifest_fini(struct oci_manifest *m);
/* rootfs.diff_ids: exactly want_n sha256 digests (*out: caller frees). */
int oci_config_diffids(json_t *cfg, size_t want_n, char (**out)[DIGEST_LEN], struct ctw_err *err);
/* docker save: the manifest.json entry to import (strings borrowed). */
struct docker_entry {
	const char *config;  /* path of the config in the archive */
	const char **layers; /* paths of the layer tars, bottom first */
	size_t nlayers;
	json_t *repo_tags; /* its RepoTags (borrowed from the manifest), or NULL */
};
int docker_manifest_pick(json_t *mans, const struct oci_pick *pick, struct docker_entry *out,
			 struct ctw_err *err);
void docker_entry_fini(struct docker_entry *e);
/* The config is named by its digest: "<hex>.json" or "blobs/sha256/<hex>". */
int docker_config_digest(const char *config_path, char *digest, struct ctw_err *err);
/* Newer archives name layers "blobs/sha256/<hex>": their digest, if so. */
bool docker_layer_digest(const char *layer_path, char *digest);

/* ---- busybox.c ---- */
int busybox_build(const char *root, struct ctw_err *err);
/* This machine's OCI architecture name: "amd64", "arm64", ... */
const char *image_oci_arch(void);

/* ---- config.c ---- */
void image_strv_free(char **v); /* NULL-terminated; NULL ok */
int image_config_from_json(json_t *cfg_doc, struct ctw_image_config *cfg, struct ctw_err *err);

#endif /* CTW_IMAGE_INTERNAL_H */
