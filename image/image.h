/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image/ — the image store under ctw_root_dir(): a content-addressed layer
 * store (a layer shared by two images is stored once), image metadata
 * (name:tag → config + ordered layers), import of OCI layouts and `docker
 * save` archives, and the built-in `busybox` image made from Debian's
 * busybox-static on first use.
 *
 * Layout (see image/README or the README's "Image store" section):
 *   ROOT/layers/sha256/<diffid>/        extracted layer (overlay lowerdir)
 *   ROOT/images/<image id>.json         config + layer list + names
 *   ROOT/images/index.json              name:tag -> image id
 */
#ifndef CTW_IMAGE_H
#define CTW_IMAGE_H

#include <stddef.h>

#include "../lib/lib.h"

struct ctw_image_config {
	char **entrypoint;   /* NULL-terminated, NULL when unset */
	char **cmd;          /* NULL-terminated, NULL when unset */
	char **env;          /* "K=V", NULL-terminated, NULL when unset */
	char *workdir;       /* NULL when unset */
	char *user;          /* NULL when unset */
	char *stop_signal;   /* e.g. "SIGTERM", NULL when unset */
};

struct ctw_image {
	char id[80];                /* "sha256:<hex>" of the config */
	char *name;                 /* "busybox:latest" as asked for */
	char **layers;              /* absolute layer dirs, bottom first */
	size_t nlayers;
	struct ctw_image_config config;
};

/* Find an image by name[:tag] or id (prefix); "busybox" is built on first
 * use.  root NULL = ctw_root_dir(). */
int ctw_image_get(const char *root, const char *ref, struct ctw_image **out,
		  struct ctw_err *err);
void ctw_image_free(struct ctw_image *img);

#endif /* CTW_IMAGE_H */
