/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image/ — the image store under ctw_root_dir(): a content-addressed layer
 * store (a layer shared by two images is stored once), image metadata
 * (name:tag → config + ordered layers), import of OCI layouts and `docker
 * save` archives, and the built-in `busybox` image made from Debian's
 * busybox-static on first use.
 *
 * Layout:
 *   ROOT/layers/sha256/<diffid>/        extracted layer (overlay lowerdir);
 *                                       the key is the uncompressed tar's
 *                                       sha256 (the OCI diff_id)
 *   ROOT/images/<hex>.json              one image: id, names, layers, the
 *                                       OCI image config, size, created
 *   ROOT/images/index.json              name:tag -> image id
 *   ROOT/tmp/                           extraction in progress (renamed
 *                                       into layers/ when verified)
 *   ROOT/.lock                          flock: writers (import, rmi, the
 *                                       busybox build) serialize on it;
 *                                       readers never take it
 *
 * Layers keep OCI whiteouts as overlayfs expects them: `.wh.NAME` becomes a
 * 0:0 character device NAME, `.wh..wh..opq` the xattr
 * trusted.overlay.opaque=y on its directory.
 */
#ifndef CTW_IMAGE_H
#define CTW_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/lib.h"

#define CTW_IMAGE_BUILTIN "busybox:latest"

struct ctw_image_config {
	char **entrypoint; /* NULL-terminated, NULL when unset */
	char **cmd;	   /* NULL-terminated, NULL when unset */
	char **env;	   /* "K=V", NULL-terminated, NULL when unset */
	char *workdir;	   /* NULL when unset */
	char *user;	   /* NULL when unset */
	char *stop_signal; /* e.g. "SIGTERM", NULL when unset */
};

struct ctw_image {
	char id[80];   /* "sha256:<hex>" of the config */
	char *name;    /* "busybox:latest" as asked for */
	char **layers; /* absolute layer dirs, bottom first */
	size_t nlayers;
	struct ctw_image_config config;
};

/* Find an image by name[:tag] or id (prefix); "busybox" is built on first
 * use.  root NULL = ctw_root_dir(). */
int ctw_image_get(const char *root, const char *ref, struct ctw_image **out, struct ctw_err *err);
void ctw_image_free(struct ctw_image *img);

/* Parse the "config" object of an OCI image config (JSON text or the whole
 * config document: both {"config":{...}} and {...} are accepted). */
int ctw_image_config_parse(const char *json, struct ctw_image_config *cfg, struct ctw_err *err);
void ctw_image_config_fini(struct ctw_image_config *cfg);

/* Normalize a reference: "busybox" -> "busybox:latest"; NULL when the
 * reference is not a valid name[:tag]. */
char *ctw_image_ref_normalize(const char *ref);

/* The default cap on the uncompressed bytes of an import's layers (and of
 * the tar of a layout): `import --max-size`, $CTRWATCH_IMPORT_MAX_SIZE. */
#define CTW_IMAGE_MAX_SIZE_DEFAULT (16ull << 30)

/* Import an OCI image layout (directory or tar) or a `docker save` archive.
 * name (NULL: the name recorded in the archive, if any) tags the image.
 * ref (may be NULL) picks one image of several: an OCI ref.name annotation
 * or a docker save RepoTag; without it, name's tag does.  max_size caps the
 * uncompressed bytes of all its layers (0: CTW_IMAGE_MAX_SIZE_DEFAULT); a
 * layer that passes it fails the import (EFBIG), naming the layer.
 * On success *id_out gets "sha256:<hex>" and *name_out the normalized name
 * given to the image or NULL (both may be NULL; the caller frees). */
int ctw_image_import(const char *root, const char *path, const char *name, const char *ref,
		     uint64_t max_size, char **id_out, char **name_out, struct ctw_err *err);

/* One image of the store, as listed by `ctrwatch images`. */
struct ctw_image_info {
	char id[80];
	char **names;  /* NULL-terminated (may be empty) */
	char **layers; /* diff_ids "sha256:<hex>", bottom first */
	size_t nlayers;
	uint64_t size;	  /* bytes of the layers' files (apparent size) */
	char created[48]; /* RFC 3339, when it entered the store */
};

/* All images, sorted by creation time (newest first). */
int ctw_image_list(const char *root, struct ctw_image_info **out, size_t *n, struct ctw_err *err);
void ctw_image_info_free(struct ctw_image_info *infos, size_t n);

/* The image's record as JSON text (caller frees): id, names, layers (dirs
 * and diff_ids), size, created and the OCI config. */
int ctw_image_inspect(const char *root, const char *ref, char **json_out, struct ctw_err *err);

/* Remove a name (or, given an id, the image).  An image still named or used
 * by a container (state.json "image_id" under ctw_state_dir()) is kept
 * unless force; forced, an image in use is only untagged.  Layers no image
 * references any more are deleted.  *msg_out (may be NULL) says what was
 * done ("Untagged: x", "Deleted: sha256:...", one per line). */
int ctw_image_remove(const char *root, const char *ref, bool force, char **msg_out,
		     struct ctw_err *err);

/* Remove what killed imports left (ROOT/tmp) and layers no image references;
 * safe at any time (takes the store lock).  *msg_out as for remove. */
int ctw_image_gc(const char *root, char **msg_out, struct ctw_err *err);

/* Is the image with this id used by a container in state_dir (NULL =
 * ctw_state_dir())?  Puts the first user's id into who (may be NULL). */
bool ctw_image_in_use(const char *state_dir, const char *image_id, char *who, size_t who_size);

#endif /* CTW_IMAGE_H */
