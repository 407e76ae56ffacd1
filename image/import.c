// SPDX-License-Identifier: Apache-2.0
/*
 * `ctrwatch import`: OCI image layouts (a directory, or a tar of one) and
 * `docker save` archives (manifest.json).  Everything is verified before
 * anything becomes visible: every blob against its sha256 digest and size,
 * every layer's uncompressed content against the config's diff_id.  A layer
 * is verified before any of it is extracted (layer_prepare), its extraction
 * is capped (max_size), and it is extracted into ROOT/tmp and renamed into
 * the layer store, and the image record written, only once all of them
 * passed, under the store lock.  A layer the store already has is verified
 * but not extracted again.
 *
 * The archive is hostile: paths inside the layout are opened with
 * openat2(RESOLVE_IN_ROOT) (ctw_open_file_in_root), so a symlink in it cannot
 * make the import read a host file, and only regular files are read (a FIFO
 * or a device as a blob is refused at once: it would block or never end).
 * What the JSON documents say is checked in oci.c.
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
	char **names;	       /* the names the archive gives it (NULL-terminated), or NULL */
	char *config;	       /* the config blob, as read */
	size_t config_len;
	struct layer_budget budget; /* uncompressed bytes of all layers */
	size_t nlayers;
	char (*diffids)[DIGEST_LEN];
	char **tmps; /* prepared layer dirs (NULL: already stored) */
};

/* Open a regular file inside the layout, never resolving outside it and
 * never opening a FIFO or a device (which would block or never end). */
static int open_in(struct import *im, const char *rel, size_t max_size, struct ctw_err *err)
{
	struct stat st;
	int fd = ctw_open_file_in_root(im->dirfd, rel, max_size, &st);
	if (fd >= 0)
		return fd;
	if (fd == -EFBIG)
		return ctw_err_setx(err, EFBIG, "%s: `%s` is larger than %zu MiB", im->src, rel,
				    max_size >> 20);
	if (fd == -EINVAL || fd == -EISDIR) {
		/* Only to say what it is: O_PATH opens nothing. */
		int pfd = ctw_open_in_root(im->dirfd, rel, O_PATH | O_NOFOLLOW);
		const char *what = "not a regular file";
		if (pfd >= 0 && fstat(pfd, &st) == 0)
			what = layer_file_type(st.st_mode);
		if (pfd >= 0)
			close(pfd);
		return ctw_err_setx(err, EINVAL, "%s: `%s` is not a regular file (%s)", im->src,
				    rel, what);
	}
	return ctw_err_set(err, -fd, "%s: open `%s`", im->src, rel);
}

static int read_in(struct import *im, const char *rel, char **out, size_t *len, struct ctw_err *err)
{
	int fd = open_in(im, rel, MAX_CONFIG, err);
	if (fd < 0)
		return fd;
	int r = ctw_read_fd_capped(fd, MAX_CONFIG, out, len);
	close(fd);
	if (r < 0)
		return ctw_err_set(err, -r, "%s: read `%s`", im->src, rel);
	return 0;
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
static int read_blob_json(struct import *im, json_t *jdesc, const char *what, json_t **out,
			  char **raw, size_t *raw_len, struct ctw_err *err)
{
	struct oci_desc desc;
	int r = oci_desc_parse(jdesc, what, &desc, err);
	if (r < 0)
		return ctw_err_prefix(err, "%s", im->src);
	if (desc.size > (int64_t)MAX_CONFIG)
		return ctw_err_setx(err, EFBIG, "%s: %s blob %s: %lld bytes, more than %u MiB",
				    im->src, what, desc.digest, (long long)desc.size,
				    MAX_CONFIG >> 20);
	_cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", digest_hex(desc.digest));
	char *text = NULL;
	size_t len = 0;
	r = read_in(im, rel, &text, &len, err);
	if (r < 0)
		return r;
	char got[DIGEST_LEN];
	sha256_buf(text, len, got);
	if (strcmp(got, desc.digest)) {
		r = ctw_err_setx(err, EBADMSG, "%s: %s blob %s: sha256 mismatch (content is %s)",
				 im->src, what, desc.digest, got);
	} else if (desc.size >= 0 && (size_t)desc.size != len) {
		r = ctw_err_setx(err, EBADMSG, "%s: %s blob %s: size %zu, descriptor says %lld",
				 im->src, what, desc.digest, len, (long long)desc.size);
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

/* One layer blob, by its path inside the layout: verified, then extracted
 * (or only verified when the store has it). */
static int prepare_one(struct import *im, size_t i, const char *rel, const struct layer_want *want,
		       struct ctw_err *err)
{
	int fd = open_in(im, rel, 0, err);
	if (fd < 0)
		return fd;
	int r = layer_prepare(im->root, fd, rel, want, &im->budget, im->diffids[i], &im->tmps[i],
			      err);
	close(fd);
	if (r < 0)
		ctw_err_prefix(err, "%s", im->src);
	return r;
}

/* The config's runtime part must be usable before any layer is touched. */
static int check_config(struct import *im, json_t *cfg, struct ctw_err *err)
{
	struct ctw_image_config c;
	int r = image_config_from_json(cfg, &c, err);
	if (r < 0)
		return ctw_err_prefix(err, "%s", im->src);
	ctw_image_config_fini(&c);
	return 0;
}

static void alloc_layers(struct import *im, size_t n)
{
	im->nlayers = n;
	im->diffids = xcalloc(n + 1, DIGEST_LEN);
	im->tmps = xcalloc(n + 1, sizeof(char *));
}

/* The names of a docker save entry: every RepoTag, normalized (a tag that
 * is no valid name is left out). */
static char **docker_names(const struct docker_entry *de)
{
	size_t n = 0;
	char **v = xcalloc(1, sizeof(*v));
	for (size_t i = 0; de->repo_tags && i < json_array_size(de->repo_tags); i++) {
		char *nm = ctw_image_ref_normalize(
			json_string_value(json_array_get(de->repo_tags, i)));
		if (!nm)
			continue;
		v = xrealloc(v, (n + 2) * sizeof(*v));
		v[n++] = nm;
		v[n] = NULL;
	}
	return v;
}

/* The name of an OCI layout's image: a full reference in its annotations,
 * or a bare tag there ("v1", as `umoci new --image app:v1` writes it) on the
 * layout's own name ("app", "app.tar" -> "app:v1"). */
static char **oci_names(json_t *desc, const char *src)
{
	char *nm = oci_name_from_annotations(desc);
	const char *tag = json_string_value(json_object_get(json_object_get(desc, "annotations"),
							    "org.opencontainers.image.ref.name"));
	if (!nm && tag && *tag) {
		_cleanup_free_ char *base = xstrdup(src);
		size_t l = strlen(base);
		while (l > 1 && base[l - 1] == '/')
			base[--l] = '\0';
		const char *b = strrchr(base, '/') ? strrchr(base, '/') + 1 : base;
		static const char *const exts[] = {".tar.gz", ".tgz", ".tar", ".oci"};
		char *repo = xstrdup(b);
		for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
			if (ctw_str_has_suffix(repo, exts[i])) {
				repo[strlen(repo) - strlen(exts[i])] = '\0';
				break;
			}
		}
		_cleanup_free_ char *ref = xasprintf("%s:%s", repo, tag);
		free(repo);
		nm = ctw_image_ref_normalize(ref);
	}
	if (!nm)
		return NULL;
	char **v = xcalloc(2, sizeof(*v));
	v[0] = nm;
	return v;
}

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
	struct oci_pick pick = {.ref = im->ref, .want_name = im->want_name};
	struct oci_manifest om = {0};
	char(*want_ids)[DIGEST_LEN] = NULL;
	json_t *man = NULL, *nested = NULL, *cfg = NULL;
	json_t *desc = oci_index_pick(index, &pick, err);
	if (!desc) {
		r = ctw_err_prefix(err, "%s", im->src);
		goto out;
	}
	if (!im->want_name)
		im->names = oci_names(desc, im->src);
	if (oci_is_index(json_string_value(json_object_get(desc, "mediaType")))) {
		/* A multi-platform image: one more level. */
		r = read_blob_json(im, desc, "image index", &nested, NULL, NULL, err);
		if (r < 0)
			goto out;
		if (!(desc = oci_index_platform(nested, err))) {
			r = ctw_err_prefix(err, "%s", im->src);
			goto out;
		}
	}
	r = read_blob_json(im, desc, "manifest", &man, NULL, NULL, err);
	if (r < 0)
		goto out;
	if ((r = oci_manifest_parse(man, &om, err)) < 0) {
		ctw_err_prefix(err, "%s", im->src);
		goto out;
	}
	r = read_blob_json(im, json_object_get(man, "config"), "config", &cfg, &im->config,
			   &im->config_len, err);
	if (r < 0)
		goto out;
	if ((r = oci_config_diffids(cfg, om.nlayers, &want_ids, err)) < 0) {
		ctw_err_prefix(err, "%s", im->src);
		goto out;
	}
	if ((r = check_config(im, cfg, err)) < 0)
		goto out;
	alloc_layers(im, om.nlayers);
	for (size_t i = 0; i < om.nlayers && r == 0; i++) {
		const struct oci_desc *l = &om.layers[i];
		_cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", digest_hex(l->digest));
		const struct layer_want want = {
			.digest = l->digest, .size = l->size, .diffid = want_ids[i]};
		r = prepare_one(im, i, rel, &want, err);
	}
out:
	free(want_ids);
	oci_manifest_fini(&om);
	json_decref(cfg);
	json_decref(man);
	json_decref(nested);
	json_decref(index);
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
	struct oci_pick pick = {.ref = im->ref, .want_name = im->want_name};
	struct docker_entry de;
	json_t *cfg = NULL;
	char(*want_ids)[DIGEST_LEN] = NULL;
	char want[DIGEST_LEN], got[DIGEST_LEN];
	if ((r = docker_manifest_pick(mans, &pick, &de, err)) < 0 ||
	    (r = docker_config_digest(de.config, want, err)) < 0) {
		ctw_err_prefix(err, "%s", im->src);
		goto out;
	}
	r = read_in(im, de.config, &im->config, &im->config_len, err);
	if (r < 0)
		goto out;
	sha256_buf(im->config, im->config_len, got);
	if (strcmp(want, got)) {
		r = ctw_err_setx(err, EBADMSG,
				 "%s: config blob %s: sha256 mismatch (content is %s)", im->src,
				 want, got);
		goto out;
	}
	if (!(cfg = parse(im, "config", im->config, im->config_len, err))) {
		r = -EINVAL;
		goto out;
	}
	if ((r = oci_config_diffids(cfg, de.nlayers, &want_ids, err)) < 0) {
		ctw_err_prefix(err, "%s", im->src);
		goto out;
	}
	if ((r = check_config(im, cfg, err)) < 0)
		goto out;
	if (!im->want_name)
		im->names = docker_names(&de);
	alloc_layers(im, de.nlayers);
	for (size_t i = 0; i < de.nlayers && r == 0; i++) {
		/* Only diff_ids, unless the layer is named by its digest. */
		char dg[DIGEST_LEN];
		bool named = docker_layer_digest(de.layers[i], dg);
		const struct layer_want lw = {
			.digest = named ? dg : NULL, .size = -1, .diffid = want_ids[i]};
		r = prepare_one(im, i, de.layers[i], &lw, err);
	}
out:
	free(want_ids);
	json_decref(cfg);
	docker_entry_fini(&de);
	json_decref(mans);
	return r;
}

static bool exists_in(struct import *im, const char *rel)
{
	int fd = ctw_open_in_root(im->dirfd, rel, O_PATH);
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
	/* every name the archive gives (docker save RepoTags), else none */
	const char *one[] = {im->want_name, NULL};
	const char *const *names =
		im->want_name || !im->names ? one : (const char *const *)im->names;
	for (size_t i = 0; r == 0 && (i == 0 || names[i]); i++)
		r = store_image_add(im->root, im->config, im->config_len, names[i], id_out, err);
	store_unlock(lock);
	return r;
}

int ctw_image_import(const char *root, const char *path, const char *name, const char *ref,
		     uint64_t max_size, char **id_out, char **name_out, struct ctw_err *err)
{
	struct import im = {.root = store_root(root),
			    .src = path,
			    .dirfd = -1,
			    .ref = ref,
			    .budget = {.max = max_size ? max_size : CTW_IMAGE_MAX_SIZE_DEFAULT}};
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
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return ctw_err_setx(err, EINVAL, "`%s` is not a regular file or a directory (%s)",
				    path, layer_file_type(st.st_mode));
	if (S_ISDIR(st.st_mode)) {
		im.dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		/* A tar (possibly gzipped) of a layout: unpack it safely first,
		 * within a cap of its own. */
		r = store_mktemp(im.root, "import", &im.unpacked, err);
		if (r < 0)
			return r;
		struct layer_budget outer = {.max = im.budget.max};
		struct layer_result res;
		r = layer_extract(path, im.unpacked, &outer, &res, err);
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
		if (im.want_name) {
			*name_out = xstrdup(im.want_name);
		} else if (im.names && im.names[0]) {
			*name_out = xstrdup(im.names[0]);
			for (char **n = im.names + 1; *n; n++) {
				char *j = xasprintf("%s, %s", *name_out, *n);
				free(*name_out);
				*name_out = j;
			}
		} else {
			*name_out = NULL;
		}
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
	image_strv_free(im.names);
	if (im.dirfd >= 0)
		close(im.dirfd);
	if (im.unpacked) {
		ctw_rm_rf(im.unpacked);
		free(im.unpacked);
	}
	return r;
}
