// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for what an image's JSON documents say (image/oci.c and
 * image/config.c): the input is one JSON document, read as each of index.json
 * (and a nested image index), an image manifest, an image config and docker
 * save's manifest.json, since an archive may put any document anywhere.
 *
 * Invariants:
 *  - every failure says why (a non-empty message);
 *  - a picked descriptor is one of the document's "manifests";
 *  - accepted descriptors have a "sha256:<64 hex>" digest (so the blob path
 *    made of it stays inside blobs/sha256/) and a size >= -1;
 *  - manifests and docker entries hold at most OCI_MAX_LAYERS layers, every
 *    one a non-empty path or a valid descriptor; diff_ids are sha256 digests;
 *  - a runtime config holds at most 4096 entries per list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../image/internal.h"

static void check_err(int r, const struct ctw_err *err)
{
	if (r < 0 && !err->msg[0])
		abort();
}

static void check_desc(const struct oci_desc *d)
{
	if (!digest_hex(d->digest) || d->size < -1)
		abort();
}

static bool in_array(json_t *arr, json_t *v)
{
	json_t *e;
	size_t i;
	json_array_foreach (arr, i, e) {
		if (e == v)
			return true;
	}
	return false;
}

static void as_index(json_t *doc)
{
	static const struct oci_pick picks[] = {
		{NULL, NULL},
		{"v1", NULL},
		{NULL, "docker.io/library/app:v1"},
		{"latest", "docker.io/library/app:latest"},
	};
	for (size_t k = 0; k < sizeof(picks) / sizeof(picks[0]); k++) {
		struct ctw_err err = {0};
		json_t *d = oci_index_pick(doc, &picks[k], &err);
		if (!d) {
			check_err(-1, &err);
			continue;
		}
		if (!in_array(json_object_get(doc, "manifests"), d))
			abort();
		free(oci_name_from_annotations(d));
		struct oci_desc desc;
		int r = oci_desc_parse(d, "manifest", &desc, &err);
		check_err(r, &err);
		if (r == 0) {
			check_desc(&desc);
			(void)oci_is_index(desc.media_type);
		}
	}
	struct ctw_err err = {0};
	json_t *d = oci_index_platform(doc, &err);
	if (!d)
		check_err(-1, &err);
	else if (!in_array(json_object_get(doc, "manifests"), d))
		abort();
}

static void as_manifest(json_t *doc)
{
	struct oci_manifest m;
	struct ctw_err err = {0};
	int r = oci_manifest_parse(doc, &m, &err);
	check_err(r, &err);
	if (r < 0)
		return;
	if (m.nlayers > OCI_MAX_LAYERS)
		abort();
	check_desc(&m.config);
	for (size_t i = 0; i < m.nlayers; i++)
		check_desc(&m.layers[i]);
	/* The same document as its own config: diff_ids for those layers. */
	char(*ids)[DIGEST_LEN] = NULL;
	r = oci_config_diffids(doc, m.nlayers, &ids, &err);
	check_err(r, &err);
	for (size_t i = 0; r == 0 && i < m.nlayers; i++)
		if (!digest_hex(ids[i]))
			abort();
	free(ids);
	oci_manifest_fini(&m);
}

static void check_strv(char **v)
{
	size_t n = 0;
	for (; v && v[n]; n++)
		if (strlen(v[n]) > (128 << 10))
			abort();
	if (n > 4096)
		abort();
}

static void as_config(json_t *doc, const uint8_t *data, size_t size)
{
	struct ctw_image_config c;
	struct ctw_err err = {0};
	int r = image_config_from_json(doc, &c, &err);
	check_err(r, &err);
	if (r == 0) {
		check_strv(c.entrypoint);
		check_strv(c.cmd);
		check_strv(c.env);
		ctw_image_config_fini(&c);
	}
	for (size_t n = 0; n < 8; n++) {
		char(*ids)[DIGEST_LEN] = NULL;
		r = oci_config_diffids(doc, n, &ids, &err);
		check_err(r, &err);
		free(ids);
	}
	/* The text form, as `run` reads a stored config. */
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	r = ctw_image_config_parse(text, &c, &err);
	check_err(r, &err);
	if (r == 0)
		ctw_image_config_fini(&c);
	free(text);
}

static void as_docker(json_t *doc)
{
	static const struct oci_pick picks[] = {
		{NULL, NULL},
		{"app:v1", NULL},
		{NULL, "docker.io/library/app:v1"},
	};
	for (size_t k = 0; k < sizeof(picks) / sizeof(picks[0]); k++) {
		struct docker_entry e;
		struct ctw_err err = {0};
		int r = docker_manifest_pick(doc, &picks[k], &e, &err);
		check_err(r, &err);
		if (r < 0)
			continue;
		if (!e.config || e.nlayers > OCI_MAX_LAYERS)
			abort();
		char dg[DIGEST_LEN];
		r = docker_config_digest(e.config, dg, &err);
		check_err(r, &err);
		if (r == 0 && !digest_hex(dg))
			abort();
		for (size_t i = 0; i < e.nlayers; i++) {
			if (!e.layers[i] || !e.layers[i][0])
				abort();
			if (docker_layer_digest(e.layers[i], dg) && !digest_hex(dg))
				abort();
		}
		docker_entry_fini(&e);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *doc = json_loadb((const char *)data, size, 0, &je);
	if (!doc)
		return 0;
	as_index(doc);
	as_manifest(doc);
	as_config(doc, data, size);
	as_docker(doc);
	json_decref(doc);
	return 0;
}
