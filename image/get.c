// SPDX-License-Identifier: Apache-2.0
/*
 * An image reference resolved to what a run needs: its layer directories
 * and its config.  Sits above the store (store.c) and the built-in image
 * (busybox.c), which it builds on first use: neither of those needs the
 * other's caller.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

void ctw_image_free(struct ctw_image *img)
{
	if (!img)
		return;
	free(img->name);
	for (size_t i = 0; i < img->nlayers; i++)
		free(img->layers[i]);
	free(img->layers);
	ctw_image_config_fini(&img->config);
	free(img);
}

static int image_from_record(const char *root, json_t *rec, const char *name,
			     struct ctw_image **out, struct ctw_err *err)
{
	struct ctw_image *img = xcalloc(1, sizeof(*img));
	ctw_strlcpy(img->id, json_string_value(json_object_get(rec, "id")), sizeof(img->id));
	img->name = xstrdup(name);
	json_t *layers = json_object_get(rec, "layers");
	img->nlayers = json_array_size(layers);
	img->layers = xcalloc(img->nlayers + 1, sizeof(char *));
	for (size_t i = 0; i < img->nlayers; i++) {
		const char *d = json_string_value(json_array_get(layers, i));
		if (!digest_hex(d)) {
			ctw_image_free(img);
			return ctw_err_setx(err, EINVAL, "image %s: bad layer id in its record",
					    name);
		}
		img->layers[i] = store_layer_dir(root, d);
	}
	int r = image_config_from_json(json_object_get(rec, "config"), &img->config, err);
	if (r < 0) {
		ctw_image_free(img);
		return ctw_err_prefix(err, "image %s", name);
	}
	*out = img;
	return 0;
}

int ctw_image_get(const char *root, const char *ref, struct ctw_image **out, struct ctw_err *err)
{
	root = store_root(root);
	json_t *rec = NULL;
	int r = store_image_lookup(root, ref, &rec, err);
	if (r == 0 && !store_image_complete(root, rec)) {
		/* A layer was deleted behind our back: the built-in image is
		 * rebuilt, any other must be imported again. */
		json_decref(rec);
		rec = NULL;
		r = ctw_err_setx(err, ENOENT,
				 "image `%s`: a layer is missing from `%s/layers`; import it again",
				 ref, root);
	}
	if (r == -ENOENT) {
		_cleanup_free_ char *name = ctw_image_ref_normalize(ref);
		if (name && !strcmp(name, CTW_IMAGE_BUILTIN)) {
			ctw_err_clear(err);
			r = busybox_build(root, err);
			if (r < 0)
				return ctw_err_prefix(err, "build the built-in image %s",
						      CTW_IMAGE_BUILTIN);
			r = store_image_lookup(root, ref, &rec, err);
		}
	}
	if (r < 0)
		return r;
	_cleanup_free_ char *name = ctw_image_ref_normalize(ref);
	r = image_from_record(root, rec, name ? name : ref, out, err);
	json_decref(rec);
	return r;
}
