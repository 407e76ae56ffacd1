// SPDX-License-Identifier: Apache-2.0
/*
 * `ctrwatch import`: OCI image layouts (a directory, or a tar of one) and
 * `docker save` archives (manifest.json).  Everything is verified before
 * anything becomes visible: every blob against its sha256 digest (and size),
 * every layer's uncompressed content against the config's diff_id.  Layers
 * are extracted into ROOT/tmp and renamed into the layer store, and the
 * image record written, only once all of them passed, under the store lock.
 * A layer the store already has is verified but not extracted again.
 *
 * Paths inside the layout are opened with openat2(RESOLVE_IN_ROOT), so a
 * symlink in an archive cannot make the import read a host file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include "internal.h"

#define MAX_CONFIG (16u << 20) /* manifests and configs are small */

struct import {
	const char *root;      /* the store */
	const char *src;       /* what the user named (for messages) */
	int dirfd;	       /* the layout directory */
	char *unpacked;	       /* ROOT/tmp/import-*: the tar, unpacked */
	const char *want_name; /* NAME[:TAG] asked for, normalized, or NULL */
	const char *ref;       /* which image of several (--ref), or NULL */
	char *name;	       /* the name the image gets, or NULL */
	char *config;	       /* the config blob, as read */
	size_t config_len;
	size_t nlayers;
	char (*diffids)[DIGEST_LEN];
	char **tmps; /* prepared layer dirs (NULL: already stored) */
};

/* Open a path inside the layout, never resolving outside it. */
static int open_in(struct import *im, const char *rel, struct ctw_err *err)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, im->dirfd, rel, &how, sizeof(how));
	if (fd < 0)
		return ctw_err_set(err, errno, "%s: open `%s`", im->src, rel);
	return fd;
}

static int read_in(struct import *im, const char *rel, char **out, size_t *len, struct ctw_err *err)
{
	int fd = open_in(im, rel, err);
	if (fd < 0)
		return fd;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_CONFIG)
		r = ctw_err_setx(err, EINVAL, "%s: `%s` is not a small regular file", im->src, rel);
	else if ((r = ctw_read_file(proc, out, len)) < 0)
		r = ctw_err_set(err, -r, "%s: read `%s`", im->src, rel);
	close(fd);
	return r;
}

static json_t *parse(struct import *im, const char *what, const char *text, size_t len,
		     struct ctw_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, 0, &je);
	if (!j)
		ctw_err_setx(err, EINVAL, "%s: %s: %s (line %d, column %d)", im->src, what, je.text,
			     je.line, je.column);
	return j;
}

/* A descriptor's blob: verified against its digest and size, parsed. */
static int read_blob_json(struct import *im, json_t *desc, const char *what, json_t **out,
			  char **raw, size_t *raw_len, struct ctw_err *err)
{
	const char *digest = json_string_value(json_object_get(desc, "digest"));
	const char *hex = digest_hex(digest);
	if (!hex)
		return ctw_err_setx(err, EINVAL, "%s: %s: unsupported digest `%s`", im->src, what,
				    digest ? digest : "(none)");
	_cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", hex);
	char *text = NULL;
	size_t len = 0;
	int r = read_in(im, rel, &text, &len, err);
	if (r < 0)
		return r;
	char got[DIGEST_LEN];
	sha256_buf(text, len, got);
	json_t *size = json_object_get(desc, "size");
	if (strcmp(got, digest)) {
		r = ctw_err_setx(err, EBADMSG, "%s: %s blob %s: sha256 mismatch (content is %s)",
				 im->src, what, digest, got);
	} else if (json_is_integer(size) && (size_t)json_integer_value(size) != len) {
		r = ctw_err_setx(err, EBADMSG, "%s: %s blob %s: size %zu, descriptor says %lld",
				 im->src, what, digest, len, (long long)json_integer_value(size));
	} else if (!(*out = parse(im, what, text, len, err))) {
		r = -EINVAL;
	}
	if (r == 0 && raw) {
		*raw = text;
		*raw_len = len;
	} else {
		free(text);
	}
	return r;
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

static bool is_index_type(const char *mt)
{
	return mt && (!strcmp(mt, "application/vnd.oci.image.index.v1+json") ||
		      !strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

/* Which manifest of an index: the one whose ref.name matches the asked tag
 * (or name), else the only one for this platform. */
static json_t *pick_manifest(struct import *im, json_t *index, struct ctw_err *err)
{
	json_t *mans = json_object_get(index, "manifests");
	if (!json_is_array(mans) || json_array_size(mans) == 0) {
		ctw_err_setx(err, EINVAL, "%s: index.json lists no manifests", im->src);
		return NULL;
	}
	const char *want_tag = im->ref;
	if (!want_tag && im->want_name)
		want_tag = strrchr(im->want_name, ':') + 1;
	json_t *only = NULL, *d;
	size_t i, candidates = 0;
	json_array_foreach (mans, i, d) {
		const char *ref = json_string_value(json_object_get(
			json_object_get(d, "annotations"), "org.opencontainers.image.ref.name"));
		if (ref && want_tag &&
		    (!strcmp(ref, want_tag) || (im->want_name && !strcmp(ref, im->want_name))))
			return d;
		if (!platform_matches(d))
			continue;
		candidates++;
		only = d;
	}
	if (im->ref) {
		ctw_err_setx(err, ENOENT, "%s: no image with ref.name `%s` in index.json", im->src,
			     im->ref);
		return NULL;
	}
	if (candidates == 1)
		return only;
	ctw_err_setx(err, EINVAL,
		     "%s: the layout holds %zu images; name the one to import by its tag "
		     "(org.opencontainers.image.ref.name)",
		     im->src, json_array_size(mans));
	return NULL;
}

/* A name the layout records for the image, when it is a full reference. */
static char *name_from_annotations(json_t *desc)
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

static int prepare_layers(struct import *im, json_t *blobs, const char *blob_key,
			  struct ctw_err *err);

static int import_oci(struct import *im, struct ctw_err *err)
{
	char *text = NULL;
	size_t len;
	int r = read_in(im, "index.json", &text, &len, err);
	if (r < 0)
		return r;
	json_t *index = parse(im, "index.json", text, len, err);
	free(text);
	if (!index)
		return -EINVAL;
	json_t *desc = pick_manifest(im, index, err);
	json_t *man = NULL, *nested = NULL, *cfg = NULL;
	if (!desc) {
		r = -EINVAL;
		goto out;
	}
	if (!im->want_name)
		im->name = name_from_annotations(desc);
	const char *mt = json_string_value(json_object_get(desc, "mediaType"));
	if (is_index_type(mt)) {
		/* A multi-platform image: one more level. */
		r = read_blob_json(im, desc, "image index", &nested, NULL, NULL, err);
		if (r < 0)
			goto out;
		desc = NULL;
		json_t *d;
		size_t i;
		json_array_foreach (json_object_get(nested, "manifests"), i, d) {
			if (platform_matches(d) && json_object_get(d, "platform")) {
				desc = d;
				break;
			}
		}
		if (!desc) {
			r = ctw_err_setx(err, ENOENT, "%s: no image for linux/%s in the index",
					 im->src, image_oci_arch());
			goto out;
		}
	}
	r = read_blob_json(im, desc, "manifest", &man, NULL, NULL, err);
	if (r < 0)
		goto out;
	r = read_blob_json(im, json_object_get(man, "config"), "config", &cfg, &im->config,
			   &im->config_len, err);
	if (r < 0)
		goto out;
	json_t *diffids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	json_t *layers = json_object_get(man, "layers");
	if (!json_is_array(layers) || json_array_size(layers) != json_array_size(diffids)) {
		r = ctw_err_setx(err, EINVAL,
				 "%s: the manifest has %zu layers, the config %zu diff_ids",
				 im->src, json_array_size(layers), json_array_size(diffids));
		goto out;
	}
	r = prepare_layers(im, layers, NULL, err);
	if (r == 0) {
		/* diff_ids must match what the config says */
		size_t i;
		json_t *d;
		json_array_foreach (diffids, i, d) {
			if (!json_is_string(d) || strcmp(json_string_value(d), im->diffids[i])) {
				r = ctw_err_setx(
					err, EBADMSG,
					"%s: layer %zu: content sha256 %s, config diff_id %s",
					im->src, i, im->diffids[i],
					json_is_string(d) ? json_string_value(d) : "?");
				break;
			}
		}
	}
out:
	json_decref(cfg);
	json_decref(man);
	json_decref(nested);
	json_decref(index);
	return r;
}

/* One layer blob, by its path inside the layout. */
static int prepare_one(struct import *im, size_t i, const char *rel, const char *want_digest,
		       const char *want_diffid, struct ctw_err *err)
{
	int fd = open_in(im, rel, err);
	if (fd < 0)
		return fd;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int r = layer_prepare(im->root, proc, rel, want_digest, want_diffid, im->diffids[i],
			      &im->tmps[i], err);
	close(fd);
	if (r < 0)
		ctw_err_prefix(err, "%s", im->src);
	return r;
}

/* Prepare every layer.  OCI (blob_key NULL): blobs are descriptors (digest,
 * size) and the caller compares diff_ids afterwards; docker save: blobs are
 * paths and each is checked against the config's diff_id. */
static int prepare_layers(struct import *im, json_t *blobs, const char *blob_key,
			  struct ctw_err *err)
{
	im->nlayers = json_array_size(blobs);
	im->diffids = xcalloc(im->nlayers + 1, DIGEST_LEN);
	im->tmps = xcalloc(im->nlayers + 1, sizeof(char *));
	json_t *cfg = NULL;
	json_t *want = NULL;
	if (blob_key) { /* docker save: diff_ids from the config */
		cfg = parse(im, "config", im->config, im->config_len, err);
		if (!cfg)
			return -EINVAL;
		want = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
		if (json_array_size(want) != im->nlayers) {
			json_decref(cfg);
			return ctw_err_setx(
				err, EINVAL,
				"%s: manifest.json lists %zu layers, the config %zu diff_ids",
				im->src, im->nlayers, json_array_size(want));
		}
	}
	int r = 0;
	for (size_t i = 0; i < im->nlayers && r == 0; i++) {
		json_t *b = json_array_get(blobs, i);
		if (!blob_key) {
			const char *digest = json_string_value(json_object_get(b, "digest"));
			const char *hex = digest_hex(digest);
			if (!hex) {
				r = ctw_err_setx(err, EINVAL,
						 "%s: layer %zu: unsupported digest `%s`", im->src,
						 i, digest ? digest : "(none)");
				break;
			}
			_cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", hex);
			r = prepare_one(im, i, rel, digest, NULL, err);
			json_t *size = json_object_get(b, "size");
			if (r == 0 && json_is_integer(size)) {
				struct stat st;
				int fd = open_in(im, rel, err);
				if (fd >= 0 && fstat(fd, &st) == 0 &&
				    st.st_size != (off_t)json_integer_value(size))
					r = ctw_err_setx(
						err, EBADMSG,
						"%s: layer %s: size %lld, descriptor says %lld",
						im->src, digest, (long long)st.st_size,
						(long long)json_integer_value(size));
				if (fd >= 0)
					close(fd);
			}
		} else {
			const char *rel = json_string_value(b);
			const char *diffid = json_string_value(json_array_get(want, i));
			if (!rel || !digest_hex(diffid)) {
				r = ctw_err_setx(err, EINVAL, "%s: layer %zu: bad path or diff_id",
						 im->src, i);
				break;
			}
			/* Newer docker save names layers by digest: check it too. */
			const char *want_digest = NULL;
			char dg[DIGEST_LEN];
			if (ctw_str_has_prefix(rel, "blobs/sha256/")) {
				snprintf(dg, sizeof(dg), "sha256:%s", rel + 13);
				if (digest_hex(dg))
					want_digest = dg;
			}
			r = prepare_one(im, i, rel, want_digest, diffid, err);
		}
	}
	json_decref(cfg);
	return r;
}

static int import_docker(struct import *im, struct ctw_err *err)
{
	char *text = NULL;
	size_t len;
	int r = read_in(im, "manifest.json", &text, &len, err);
	if (r < 0)
		return r;
	json_t *mans = parse(im, "manifest.json", text, len, err);
	free(text);
	if (!mans)
		return -EINVAL;
	json_t *m = NULL, *e;
	size_t i, k;
	if (!json_is_array(mans) || json_array_size(mans) == 0) {
		r = ctw_err_setx(err, EINVAL, "%s: manifest.json lists no images", im->src);
		goto out;
	}
	if (json_array_size(mans) == 1) {
		m = json_array_get(mans, 0);
	} else if (im->want_name || im->ref) {
		_cleanup_free_ char *want = im->ref ? ctw_image_ref_normalize(im->ref) : NULL;
		json_array_foreach (mans, i, e) {
			json_t *t;
			json_array_foreach (json_object_get(e, "RepoTags"), k, t) {
				_cleanup_free_ char *n =
					ctw_image_ref_normalize(json_string_value(t));
				if (n && !strcmp(n, want ? want : im->want_name))
					m = e;
			}
		}
	}
	if (!m) {
		r = ctw_err_setx(err, EINVAL,
				 "%s: the archive holds %zu images; name the one to import (one of "
				 "its RepoTags)",
				 im->src, json_array_size(mans));
		goto out;
	}
	const char *cfg_rel = json_string_value(json_object_get(m, "Config"));
	json_t *layers = json_object_get(m, "Layers");
	if (!cfg_rel || !json_is_array(layers)) {
		r = ctw_err_setx(err, EINVAL, "%s: manifest.json: no Config or Layers", im->src);
		goto out;
	}
	r = read_in(im, cfg_rel, &im->config, &im->config_len, err);
	if (r < 0)
		goto out;
	/* The config is named by its digest: "<hex>.json" or "blobs/sha256/<hex>". */
	const char *base = strrchr(cfg_rel, '/') ? strrchr(cfg_rel, '/') + 1 : cfg_rel;
	char want[DIGEST_LEN], got[DIGEST_LEN];
	snprintf(want, sizeof(want), "sha256:%.64s", base);
	sha256_buf(im->config, im->config_len, got);
	if (!digest_hex(want)) {
		r = ctw_err_setx(err, EINVAL, "%s: config `%s` is not named by its sha256", im->src,
				 cfg_rel);
		goto out;
	}
	if (strcmp(want, got)) {
		r = ctw_err_setx(err, EBADMSG,
				 "%s: config blob %s: sha256 mismatch (content is %s)", im->src,
				 want, got);
		goto out;
	}
	if (!im->want_name) {
		const char *tag =
			json_string_value(json_array_get(json_object_get(m, "RepoTags"), 0));
		im->name = tag ? ctw_image_ref_normalize(tag) : NULL;
	}
	r = prepare_layers(im, layers, "Layers", err);
out:
	json_decref(mans);
	return r;
}

static bool exists_in(struct import *im, const char *rel)
{
	struct ctw_err e = {0};
	int fd = open_in(im, rel, &e);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Make the verified layers and the record visible, under the lock. */
static int commit(struct import *im, char *id_out, struct ctw_err *err)
{
	int lock = store_lock(im->root, err);
	if (lock < 0)
		return lock;
	int r = 0;
	for (size_t i = 0; i < im->nlayers && r == 0; i++) {
		if (im->tmps[i]) {
			r = store_layer_commit(im->root, im->tmps[i], im->diffids[i], err);
			free(im->tmps[i]);
			im->tmps[i] = NULL;
		} else if (!store_layer_exists(im->root, im->diffids[i])) {
			r = ctw_err_setx(err, EAGAIN,
					 "layer %s was removed while importing: run import again",
					 im->diffids[i]);
		}
	}
	const char *name = im->want_name ? im->want_name : im->name;
	if (r == 0)
		r = store_image_add(im->root, im->config, im->config_len, name, id_out, err);
	store_unlock(lock);
	return r;
}

int ctw_image_import(const char *root, const char *path, const char *name, const char *ref,
		     char **id_out, char **name_out, struct ctw_err *err)
{
	struct import im = {.root = store_root(root), .src = path, .dirfd = -1, .ref = ref};
	_cleanup_free_ char *want = NULL;
	int r;
	if (name) {
		want = ctw_image_ref_normalize(name);
		if (!want)
			return ctw_err_setx(err, EINVAL, "`%s` is not a valid image name", name);
		im.want_name = want;
	}
	/* A missing libarchive is an error before anything is written. */
	r = ctw_dl_open(&ctw_libarchive, err);
	if (r < 0)
		return r;
	r = store_init(im.root, err);
	if (r < 0)
		return r;
	struct stat st;
	if (stat(path, &st) < 0)
		return ctw_err_set(err, errno, "`%s`", path);
	if (S_ISDIR(st.st_mode)) {
		im.dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		/* A tar (possibly gzipped) of a layout: unpack it safely first. */
		r = store_mktemp(im.root, "import", &im.unpacked, err);
		if (r < 0)
			return r;
		struct layer_result res;
		r = layer_extract(path, im.unpacked, &res, err);
		if (r < 0) {
			ctw_err_prefix(err, "unpack `%s`", path);
			goto out;
		}
		im.dirfd = open(im.unpacked, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (im.dirfd < 0) {
		r = ctw_err_set(err, errno, "open `%s`", path);
		goto out;
	}
	if (exists_in(&im, "oci-layout") && exists_in(&im, "index.json"))
		r = import_oci(&im, err);
	else if (exists_in(&im, "manifest.json"))
		r = import_docker(&im, err);
	else
		r = ctw_err_setx(err, EINVAL,
				 "`%s` is neither an OCI image layout (oci-layout, index.json) nor "
				 "a docker save archive (manifest.json)",
				 path);
	if (r < 0)
		goto out;
	char id[DIGEST_LEN];
	r = commit(&im, id, err);
	if (r == 0 && id_out)
		*id_out = xstrdup(id);
	if (r == 0 && name_out) {
		const char *n = im.want_name ? im.want_name : im.name;
		*name_out = n ? xstrdup(n) : NULL;
	}
out:
	for (size_t i = 0; im.tmps && i < im.nlayers; i++) {
		if (im.tmps[i]) {
			ctw_rm_rf(im.tmps[i]);
			free(im.tmps[i]);
		}
	}
	free(im.tmps);
	free(im.diffids);
	free(im.config);
	free(im.name);
	if (im.dirfd >= 0)
		close(im.dirfd);
	if (im.unpacked) {
		ctw_rm_rf(im.unpacked);
		free(im.unpacked);
	}
	return r;
}
