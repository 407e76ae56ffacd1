// SPDX-License-Identifier: Apache-2.0
/*
 * What the JSON documents of an image say: OCI index.json and image indexes,
 * manifests, descriptors, the config's diff_ids, and docker save's
 * manifest.json.  Pure (no I/O), so that tests/fuzz/fuzz_oci_json.c can feed
 * it anything: every document comes from the archive and is hostile.  Each
 * function checks the shape it relies on (types, digest syntax, sizes >= 0,
 * counts within bounds) and says what is wrong, never crashes on a wrong
 * type, and borrows strings from the JSON it was given.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

bool oci_is_index(const char *media_type)
{
	return media_type &&
	       (!strcmp(media_type, "application/vnd.oci.image.index.v1+json") ||
		!strcmp(media_type, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

int oci_desc_parse(json_t *d, const char *what, struct oci_desc *out, struct ctw_err *err)
{
	memset(out, 0, sizeof(*out));
	out->size = -1;
	if (!json_is_object(d))
		return ctw_err_setx(err, EINVAL, "%s: not a descriptor object", what);
	const char *digest = json_string_value(json_object_get(d, "digest"));
	if (!digest_hex(digest))
		return ctw_err_setx(err, EINVAL, "%s: unsupported digest `%.80s`", what,
				    digest ? digest : "(none)");
	ctw_strlcpy(out->digest, digest, sizeof(out->digest));
	json_t *size = json_object_get(d, "size");
	if (size && !json_is_integer(size))
		return ctw_err_setx(err, EINVAL, "%s %s: size is not an integer", what, digest);
	if (size && json_integer_value(size) < 0)
		return ctw_err_setx(err, EINVAL, "%s %s: negative size", what, digest);
	if (size)
		out->size = (int64_t)json_integer_value(size);
	out->media_type = json_string_value(json_object_get(d, "mediaType"));
	return 0;
}

static bool platform_matches(json_t *desc)
{
	json_t *p = json_object_get(desc, "platform");
	if (!p)
		return true;
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));
	return (!os || !strcmp(os, "linux")) && (!arch || !strcmp(arch, image_oci_arch()));
}

json_t *oci_index_pick(json_t *index, const struct oci_pick *pick, struct ctw_err *err)
{
	json_t *mans = json_object_get(index, "manifests");
	if (!json_is_array(mans) || json_array_size(mans) == 0) {
		ctw_err_setx(err, EINVAL, "index.json lists no manifests");
		return NULL;
	}
	const char *want_tag = pick->ref;
	if (!want_tag && pick->want_name && strrchr(pick->want_name, ':'))
		want_tag = strrchr(pick->want_name, ':') + 1;
	json_t *only = NULL, *d;
	size_t i, candidates = 0;
	json_array_foreach (mans, i, d) {
		const char *ref = json_string_value(json_object_get(
			json_object_get(d, "annotations"), "org.opencontainers.image.ref.name"));
		if (ref && want_tag &&
		    (!strcmp(ref, want_tag) || (pick->want_name && !strcmp(ref, pick->want_name))))
			return d;
		if (!platform_matches(d))
			continue;
		candidates++;
		only = d;
	}
	if (pick->ref) {
		ctw_err_setx(err, ENOENT, "no image with ref.name `%s` in index.json", pick->ref);
		return NULL;
	}
	if (candidates == 1)
		return only;
	ctw_err_setx(err, EINVAL,
		     "the layout holds %zu images; name the one to import by its tag "
		     "(org.opencontainers.image.ref.name)",
		     json_array_size(mans));
	return NULL;
}

json_t *oci_index_platform(json_t *index, struct ctw_err *err)
{
	json_t *d;
	size_t i;
	json_array_foreach (json_object_get(index, "manifests"), i, d) {
		if (platform_matches(d) && json_object_get(d, "platform"))
			return d;
	}
	ctw_err_setx(err, ENOENT, "no image for linux/%s in the index", image_oci_arch());
	return NULL;
}

char *oci_name_from_annotations(json_t *desc)
{
	json_t *ann = json_object_get(desc, "annotations");
	const char *n = json_string_value(json_object_get(ann, "io.containerd.image.name"));
	if (!n) {
		n = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
		/* a bare tag ("latest") names no repository */
		if (n && !strchr(n, '/') && !strchr(n, ':'))
			n = NULL;
	}
	return n ? ctw_image_ref_normalize(n) : NULL;
}

/* A list of layers overlayfs can stack. */
static int check_layers(json_t *layers, const char *what, struct ctw_err *err)
{
	if (!json_is_array(layers))
		return ctw_err_setx(err, EINVAL, "%s: no layers list", what);
	if (json_array_size(layers) > OCI_MAX_LAYERS)
		return ctw_err_setx(err, EINVAL, "%s: %zu layers, more than overlayfs stacks (%d)",
				    what, json_array_size(layers), OCI_MAX_LAYERS);
	return 0;
}

int oci_manifest_parse(json_t *man, struct oci_manifest *out, struct ctw_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(man))
		return ctw_err_setx(err, EINVAL, "manifest: not an object");
	int r = oci_desc_parse(json_object_get(man, "config"), "config", &out->config, err);
	if (r < 0)
		return r;
	json_t *layers = json_object_get(man, "layers");
	size_t n = json_array_size(layers);
	if ((r = check_layers(layers, "manifest", err)) < 0)
		return r;
	out->layers = xcalloc(n + 1, sizeof(*out->layers));
	for (size_t i = 0; i < n; i++) {
		char what[32];
		snprintf(what, sizeof(what), "layer %zu", i);
		r = oci_desc_parse(json_array_get(layers, i), what, &out->layers[i], err);
		if (r < 0) {
			oci_manifest_fini(out);
			return r;
		}
	}
	out->nlayers = n;
	return 0;
}

void oci_manifest_fini(struct oci_manifest *m)
{
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

int oci_config_diffids(json_t *cfg, size_t want_n, char (**out)[DIGEST_LEN], struct ctw_err *err)
{
	*out = NULL;
	json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	if (!json_is_array(ids))
		return ctw_err_setx(err, EINVAL, "config: no rootfs.diff_ids list");
	if (json_array_size(ids) != want_n)
		return ctw_err_setx(err, EINVAL,
				    "the manifest has %zu layers, the config %zu diff_ids", want_n,
				    json_array_size(ids));
	char(*v)[DIGEST_LEN] = xcalloc(want_n + 1, DIGEST_LEN);
	for (size_t i = 0; i < want_n; i++) {
		const char *d = json_string_value(json_array_get(ids, i));
		if (!digest_hex(d)) {
			free(v);
			return ctw_err_setx(err, EINVAL,
					    "config: diff_id %zu `%.80s` is not a sha256", i,
					    d ? d : "(not a string)");
		}
		ctw_strlcpy(v[i], d, DIGEST_LEN);
	}
	*out = v;
	return 0;
}

/* Does the entry carry the wanted RepoTag (both normalized)? */
static bool docker_has_tag(json_t *e, const char *want)
{
	json_t *t;
	size_t k;
	json_array_foreach (json_object_get(e, "RepoTags"), k, t) {
		_cleanup_free_ char *n = ctw_image_ref_normalize(json_string_value(t));
		if (n && !strcmp(image_ref_familiar(n), image_ref_familiar(want)))
			return true;
	}
	return false;
}

int docker_manifest_pick(json_t *mans, const struct oci_pick *pick, struct docker_entry *out,
			 struct ctw_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_array(mans) || json_array_size(mans) == 0)
		return ctw_err_setx(err, EINVAL, "manifest.json lists no images");
	json_t *m = NULL, *e;
	size_t i;
	if (json_array_size(mans) == 1 && !pick->ref) {
		m = json_array_get(mans, 0);
	} else if (pick->want_name || pick->ref) {
		_cleanup_free_ char *norm = pick->ref ? ctw_image_ref_normalize(pick->ref) : NULL;
		const char *want = pick->ref ? norm : pick->want_name;
		json_array_foreach (mans, i, e) {
			if (want && docker_has_tag(e, want))
				m = e;
		}
	}
	if (!m && pick->ref)
		return ctw_err_setx(err, ENOENT, "no image with RepoTag `%s` in manifest.json",
				    pick->ref);
	if (!m)
		return ctw_err_setx(err, EINVAL,
				    "the archive holds %zu images; name the one to import (one of "
				    "its RepoTags)",
				    json_array_size(mans));
	out->config = json_string_value(json_object_get(m, "Config"));
	json_t *layers = json_object_get(m, "Layers");
	size_t n = json_array_size(layers);
	if (!out->config)
		return ctw_err_setx(err, EINVAL, "manifest.json: no Config");
	int r = check_layers(layers, "manifest.json", err);
	if (r < 0)
		return r;
	out->layers = xcalloc(n + 1, sizeof(*out->layers));
	for (size_t k = 0; k < n; k++) {
		out->layers[k] = json_string_value(json_array_get(layers, k));
		if (!out->layers[k] || !*out->layers[k]) {
			docker_entry_fini(out);
			return ctw_err_setx(err, EINVAL, "manifest.json: layer %zu: not a path", k);
		}
	}
	out->nlayers = n;
	out->repo_tags = json_is_array(json_object_get(m, "RepoTags"))
				 ? json_object_get(m, "RepoTags")
				 : NULL;
	return 0;
}

void docker_entry_fini(struct docker_entry *e)
{
	free(e->layers);
	memset(e, 0, sizeof(*e));
}

int docker_config_digest(const char *config_path, char *digest, struct ctw_err *err)
{
	/* "<hex>.json" (classic) or "blobs/sha256/<hex>" (Docker 25+) */
	const char *base = strrchr(config_path, '/') ? strrchr(config_path, '/') + 1 : config_path;
	size_t n = strspn(base, "0123456789abcdef");
	if (n != SHA256_HEX_LEN || (base[n] && strcmp(base + n, ".json")))
		return ctw_err_setx(err, EINVAL, "config `%.200s` is not named by its sha256",
				    config_path);
	snprintf(digest, DIGEST_LEN, "sha256:%.64s", base);
	return 0;
}

bool docker_layer_digest(const char *layer_path, char *digest)
{
	if (!ctw_str_has_prefix(layer_path, "blobs/sha256/"))
		return false;
	snprintf(digest, DIGEST_LEN, "sha256:%.64s", layer_path + 13);
	return digest_hex(digest) && strlen(layer_path + 13) == SHA256_HEX_LEN;
}
