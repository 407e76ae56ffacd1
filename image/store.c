// SPDX-License-Identifier: Apache-2.0
/*
 * The store on disk: directories, the writer lock, the name index and image
 * records.  Readers (ctw_image_get on every `ctrwatch run`) take no lock:
 * every file is replaced by rename(), so a reader sees the old or the new
 * version, never half of one.  Writers serialize on ROOT/.lock (flock).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "internal.h"

const char *store_root(const char *root)
{
	return root ? root : ctw_root_dir();
}

int store_init(const char *root, struct ctw_err *err)
{
	static const char *const subdirs[] = {"layers/sha256", "images", "tmp"};
	/* Only root may enter the store: what containers write in their upper
	 * layers (a setuid binary) lies below it (an existing store with
	 * looser modes is fixed, one not ours refused). */
	int r = ctw_private_dir(root, 0700, err);
	if (r < 0)
		return ctw_err_prefix(err, "image store");
	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", root, subdirs[i]);
		r = ctw_mkdir_p(d, 0700);
		if (r < 0)
			return ctw_err_set(err, -r, "create `%s`", d);
	}
	return 0;
}

/* What a killed writer left in ROOT/tmp: "<what>-<pid>-XXXXXX" of a process
 * that is gone, and "gc-*" (only ever there while a writer holds the lock,
 * which we now do). */
static void sweep_tmp(const char *root)
{
	_cleanup_free_ char *dir = xasprintf("%s/tmp", root);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		bool stale = ctw_str_has_prefix(de->d_name, "gc-");
		const char *dash = strchr(de->d_name, '-');
		char *end = NULL;
		long pid = dash ? strtol(dash + 1, &end, 10) : 0;
		if (!stale && pid > 0 && end && *end == '-' && kill((pid_t)pid, 0) < 0 &&
		    errno == ESRCH)
			stale = true;
		if (stale) {
			_cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
			pr_debug("image store: removing `%s` left by a killed writer", p);
			ctw_rm_rf(p);
		}
	}
	if (d)
		closedir(d);
}

int store_lock(const char *root, struct ctw_err *err)
{
	int r = store_init(root, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *p = xasprintf("%s/.lock", root);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ctw_err_set(err, errno, "open `%s`", p);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return ctw_err_set(err, e, "lock `%s`", p);
	}
	sweep_tmp(root);
	return fd;
}

void store_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

char *store_layer_dir(const char *root, const char *diffid)
{
	const char *hex = digest_hex(diffid);
	return xasprintf("%s/layers/sha256/%s", root, hex ? hex : "invalid");
}

bool store_layer_exists(const char *root, const char *diffid)
{
	if (!digest_hex(diffid))
		return false;
	_cleanup_free_ char *d = store_layer_dir(root, diffid);
	struct stat st;
	return stat(d, &st) == 0 && S_ISDIR(st.st_mode);
}

int store_mktemp(const char *root, const char *what, char **path, struct ctw_err *err)
{
	int r = store_init(root, err);
	if (r < 0)
		return r;
	/* The pid lets sweep_tmp() tell a live writer's files from leftovers. */
	char *p = xasprintf("%s/tmp/%s-%d-XXXXXX", root, what, (int)getpid());
	if (!mkdtemp(p)) {
		int e = errno;
		free(p);
		return ctw_err_set(err, e, "create a temporary directory in `%s/tmp`", root);
	}
	/* mkdtemp makes 0700; a layer root is the image's "/" */
	if (chmod(p, 0755) < 0) {
		int e = errno;
		rmdir(p);
		free(p);
		return ctw_err_set(err, e, "chmod a temporary directory in `%s/tmp`", root);
	}
	*path = p;
	return 0;
}

int store_layer_commit(const char *root, const char *tmpdir, const char *diffid,
		       struct ctw_err *err)
{
	_cleanup_free_ char *dst = store_layer_dir(root, diffid);
	if (rename(tmpdir, dst) == 0)
		return 0;
	if (errno == EEXIST || errno == ENOTEMPTY) {
		/* Stored meanwhile by another writer: same content, keep theirs. */
		ctw_rm_rf(tmpdir);
		return 0;
	}
	return ctw_err_set(err, errno, "move layer into `%s`", dst);
}

static int du_total_cb(const char *path, const struct stat *st, int flag, struct FTW *f);
static __thread uint64_t du_total;

static int du_total_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (flag == FTW_F && S_ISREG(st->st_mode))
		du_total += (uint64_t)st->st_size;
	return 0;
}

uint64_t store_dir_size(const char *dir)
{
	du_total = 0;
	nftw(dir, du_total_cb, 32, FTW_PHYS | FTW_MOUNT);
	return du_total;
}

/* ---- the name index ---- */

json_t *store_index_load(const char *root)
{
	_cleanup_free_ char *p = xasprintf("%s/images/index.json", root);
	json_t *idx = json_load_file(p, 0, NULL);
	if (!json_is_object(idx)) {
		json_decref(idx);
		idx = json_object();
	}
	return idx;
}

static int write_json_atomic(const char *path, json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	size_t len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = '\0';
	int r = ctw_write_file_atomic(path, text, len + 1);
	free(text);
	return r;
}

int store_index_save(const char *root, json_t *index)
{
	_cleanup_free_ char *p = xasprintf("%s/images/index.json", root);
	return write_json_atomic(p, index);
}

static char *record_path(const char *root, const char *id)
{
	const char *hex = digest_hex(id);
	return xasprintf("%s/images/%s.json", root, hex ? hex : "invalid");
}

static json_t *record_load(const char *root, const char *id)
{
	_cleanup_free_ char *p = record_path(root, id);
	json_t *rec = json_load_file(p, 0, NULL);
	if (!json_is_object(rec)) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

static int record_save(const char *root, json_t *rec)
{
	const char *id = json_string_value(json_object_get(rec, "id"));
	_cleanup_free_ char *p = record_path(root, id);
	return write_json_atomic(p, rec);
}

static bool names_contain(json_t *names, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach (names, i, v) {
		if (json_is_string(v) && !strcmp(json_string_value(v), name))
			return true;
	}
	return false;
}

static void names_remove(json_t *names, const char *name)
{
	for (size_t i = 0; i < json_array_size(names);) {
		const char *s = json_string_value(json_array_get(names, i));
		if (s && !strcmp(s, name))
			json_array_remove(names, i);
		else
			i++;
	}
}

int store_image_add(const char *root, const char *config_blob, size_t config_len, const char *name,
		    char *id_out, struct ctw_err *err)
{
	char id[DIGEST_LEN];
	sha256_buf(config_blob, config_len, id);

	json_error_t je;
	json_t *cfg = json_loadb(config_blob, config_len, 0, &je);
	if (!json_is_object(cfg)) {
		json_decref(cfg);
		return ctw_err_setx(err, EINVAL, "image config: %s (line %d)", je.text, je.line);
	}
	json_t *diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	if (!json_is_array(diff_ids)) {
		json_decref(cfg);
		return ctw_err_setx(err, EINVAL, "image config: no rootfs.diff_ids");
	}
	uint64_t size = 0;
	size_t i;
	json_t *v;
	json_array_foreach (diff_ids, i, v) {
		const char *d = json_string_value(v);
		if (!store_layer_exists(root, d)) {
			json_decref(cfg);
			return ctw_err_setx(err, ENOENT, "image config: layer %s is not stored",
					    d ? d : "(not a string)");
		}
		_cleanup_free_ char *dir = store_layer_dir(root, d);
		size += store_dir_size(dir);
	}

	json_t *rec = record_load(root, id);
	if (!rec) {
		char created[48];
		ctw_format_time(ctw_realtime_ns(), created, sizeof(created));
		rec = json_pack("{s:s, s:[], s:O, s:I, s:s, s:O}", "id", id, "names", "layers",
				diff_ids, "size", (json_int_t)size, "created", created, "config",
				cfg);
	}
	json_decref(cfg);
	json_t *names = json_object_get(rec, "names");
	json_t *idx = store_index_load(root);
	if (name && !names_contain(names, name)) {
		/* A name points at one image: take it from the previous owner. */
		const char *old = json_string_value(json_object_get(idx, name));
		if (old && strcmp(old, id)) {
			json_t *orec = record_load(root, old);
			if (orec) {
				names_remove(json_object_get(orec, "names"), name);
				record_save(root, orec);
				json_decref(orec);
			}
		}
		json_array_append_new(names, json_string(name));
	}
	int r = record_save(root, rec);
	if (!r && name) {
		json_object_set_new(idx, name, json_string(id));
		r = store_index_save(root, idx);
	}
	json_decref(idx);
	json_decref(rec);
	if (r < 0)
		return ctw_err_set(err, -r, "write image record in `%s/images`", root);
	if (id_out)
		ctw_strlcpy(id_out, id, DIGEST_LEN);
	return 0;
}

/* ---- lookup ---- */

char *ctw_image_ref_normalize(const char *ref)
{
	if (!ref || !*ref || strlen(ref) > 255)
		return NULL;
	for (const char *p = ref; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-/:", *p)))
			return NULL;
	}
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(ref, ':');
	const char *last = slash ? slash + 1 : ref;
	if (!*last || ref[0] == '/' || ref[0] == ':' || ref[0] == '.' || ref[0] == '-')
		return NULL;
	if (colon && colon > last) {
		if (!colon[1] || colon == last)
			return NULL;
		return xstrdup(ref);
	}
	return xasprintf("%s:latest", ref);
}

/* "sha256:abc", "abc123": a hex id prefix; NULL otherwise. */
static const char *id_prefix(const char *ref)
{
	const char *hex = ctw_str_has_prefix(ref, "sha256:") ? ref + 7 : ref;
	size_t n = strspn(hex, "0123456789abcdef");
	if (n == 0 || n > SHA256_HEX_LEN || hex[n])
		return NULL;
	return hex;
}

const char *image_ref_familiar(const char *name)
{
	if (ctw_str_has_prefix(name, "docker.io/"))
		name += strlen("docker.io/");
	if (ctw_str_has_prefix(name, "library/"))
		name += strlen("library/");
	return name;
}

int store_image_lookup(const char *root, const char *ref, json_t **rec_out, struct ctw_err *err)
{
	_cleanup_free_ char *name = ctw_image_ref_normalize(ref);
	if (name) {
		json_t *idx = store_index_load(root);
		const char *id = json_string_value(json_object_get(idx, name));
		const char *key;
		json_t *v;
		/* dock/app:v1 is docker.io/dock/app:v1, as docker save writes it */
		json_object_foreach (idx, key, v) {
			if (id)
				break;
			if (!strcmp(image_ref_familiar(key), image_ref_familiar(name)))
				id = json_string_value(v);
		}
		json_t *rec = id ? record_load(root, id) : NULL;
		json_decref(idx);
		if (rec) {
			*rec_out = rec;
			return 0;
		}
	}
	const char *hex = id_prefix(ref);
	if (hex) {
		_cleanup_free_ char *dir = xasprintf("%s/images", root);
		DIR *d = opendir(dir);
		char found[DIGEST_LEN] = "";
		int matches = 0;
		struct dirent *de;
		while (d && (de = readdir(d))) {
			size_t len = strlen(de->d_name);
			if (len != SHA256_HEX_LEN + 5 || !ctw_str_has_suffix(de->d_name, ".json"))
				continue;
			if (strncmp(de->d_name, hex, strlen(hex)))
				continue;
			if (++matches == 1)
				snprintf(found, sizeof(found), "sha256:%.64s", de->d_name);
		}
		if (d)
			closedir(d);
		if (matches > 1)
			return ctw_err_setx(err, EINVAL, "image id prefix `%s` is ambiguous", ref);
		if (matches == 1) {
			json_t *rec = record_load(root, found);
			if (rec) {
				*rec_out = rec;
				return 0;
			}
		}
	}
	if (!name && !hex)
		return ctw_err_setx(err, EINVAL, "`%s` is not a valid image reference", ref);
	return ctw_err_setx(err, ENOENT, "image `%s` not found", ref);
}

/* ---- the public read side ---- */

static char **json_strv(json_t *arr)
{
	if (!json_is_array(arr))
		return NULL;
	size_t n = json_array_size(arr), k = 0;
	char **v = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if (s)
			v[k++] = xstrdup(s);
	}
	return v;
}

bool store_image_complete(const char *root, json_t *rec)
{
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(rec, "layers"), i, v) {
		if (!store_layer_exists(root, json_string_value(v)))
			return false;
	}
	return true;
}

int ctw_image_inspect(const char *root, const char *ref, char **json_out, struct ctw_err *err)
{
	root = store_root(root);
	json_t *rec = NULL;
	int r = store_image_lookup(root, ref, &rec, err);
	if (r < 0)
		return r;
	json_t *dirs = json_array();
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(rec, "layers"), i, v) {
		_cleanup_free_ char *d = store_layer_dir(root, json_string_value(v));
		json_array_append_new(dirs, json_string(d));
	}
	json_object_set_new(rec, "layer_dirs", dirs);
	char *text = json_dumps(rec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(rec);
	if (!text)
		return ctw_err_setx(err, ENOMEM, "render JSON");
	*json_out = text;
	return 0;
}

static int info_cmp(const void *a, const void *b)
{
	const struct ctw_image_info *x = a, *y = b;
	int c = strcmp(y->created, x->created);
	return c ? c : strcmp(x->id, y->id);
}

int ctw_image_list(const char *root, struct ctw_image_info **out, size_t *n, struct ctw_err *err)
{
	root = store_root(root);
	*out = NULL;
	*n = 0;
	_cleanup_free_ char *dir = xasprintf("%s/images", root);
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return ctw_err_set(err, errno, "open `%s`", dir);
	}
	struct ctw_image_info *v = NULL;
	size_t cnt = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != SHA256_HEX_LEN + 5 ||
		    !ctw_str_has_suffix(de->d_name, ".json"))
			continue;
		char id[DIGEST_LEN];
		snprintf(id, sizeof(id), "sha256:%.64s", de->d_name);
		json_t *rec = record_load(root, id);
		if (!rec)
			continue;
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		struct ctw_image_info *in = &v[cnt++];
		memset(in, 0, sizeof(*in));
		ctw_strlcpy(in->id, id, sizeof(in->id));
		in->names = json_strv(json_object_get(rec, "names"));
		if (!in->names)
			in->names = xcalloc(1, sizeof(char *));
		in->layers = json_strv(json_object_get(rec, "layers"));
		for (in->nlayers = 0; in->layers && in->layers[in->nlayers]; in->nlayers++)
			;
		in->size = (uint64_t)json_integer_value(json_object_get(rec, "size"));
		const char *c = json_string_value(json_object_get(rec, "created"));
		ctw_strlcpy(in->created, c ? c : "", sizeof(in->created));
		json_decref(rec);
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), info_cmp);
	*out = v;
	*n = cnt;
	return 0;
}

void ctw_image_info_free(struct ctw_image_info *infos, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		image_strv_free(infos[i].names);
		image_strv_free(infos[i].layers);
	}
	free(infos);
}

/* ---- removal ---- */

bool ctw_image_in_use(const char *state_dir, const char *image_id, char *who, size_t who_size)
{
	if (!state_dir)
		state_dir = ctw_state_dir();
	DIR *d = opendir(state_dir);
	if (!d)
		return false;
	bool used = false;
	struct dirent *de;
	while (!used && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s/state.json", state_dir, de->d_name);
		json_t *st = json_load_file(p, 0, NULL);
		const char *id = json_string_value(json_object_get(st, "image_id"));
		if (id && !strcmp(id, image_id)) {
			used = true;
			if (who) {
				const char *nm = json_string_value(json_object_get(st, "name"));
				ctw_strlcpy(who, nm ? nm : de->d_name, who_size);
			}
		}
		json_decref(st);
	}
	closedir(d);
	return used;
}

static void msg_add(char **msg, const char *fmt, const char *arg)
{
	char *line = xasprintf(fmt, arg);
	char *m = xasprintf("%s%s\n", *msg ? *msg : "", line);
	free(line);
	free(*msg);
	*msg = m;
}

/* Delete the layers no image record references any more. */
static void gc_layers(const char *root, char **msg)
{
	json_t *keep = json_object();
	struct ctw_image_info *infos = NULL;
	size_t n = 0;
	struct ctw_err e = {0};
	if (ctw_image_list(root, &infos, &n, &e) < 0) {
		json_decref(keep);
		return; /* unsure what is referenced: delete nothing */
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < infos[i].nlayers; k++)
			json_object_set_new(keep, infos[i].layers[k], json_true());
	ctw_image_info_free(infos, n);

	_cleanup_free_ char *dir = xasprintf("%s/layers/sha256", root);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strlen(de->d_name) != SHA256_HEX_LEN)
			continue;
		char id[DIGEST_LEN];
		snprintf(id, sizeof(id), "sha256:%s", de->d_name);
		if (json_object_get(keep, id))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
		/* Rename first so a half-deleted layer is never used. */
		_cleanup_free_ char *gone = xasprintf("%s/tmp/gc-%s", root, de->d_name);
		if (rename(p, gone) == 0) {
			ctw_rm_rf(gone);
			msg_add(msg, "Deleted layer: %s", id);
		}
	}
	if (d)
		closedir(d);
	json_decref(keep);
}

int ctw_image_remove(const char *root, const char *ref, bool force, char **msg_out,
		     struct ctw_err *err)
{
	root = store_root(root);
	char *msg = NULL;
	_cleanup_free_ char *name = NULL, *rp = NULL;
	int lock = store_lock(root, err);
	if (lock < 0)
		return lock;
	json_t *rec = NULL, *idx = NULL;
	int r = store_image_lookup(root, ref, &rec, err);
	if (r < 0)
		goto out;
	const char *id = json_string_value(json_object_get(rec, "id"));
	json_t *names = json_object_get(rec, "names");
	idx = store_index_load(root);
	name = ctw_image_ref_normalize(ref);
	bool by_name = name && names_contain(names, name);

	if (by_name && json_array_size(names) > 1) {
		names_remove(names, name);
		json_object_del(idx, name);
		r = record_save(root, rec);
		if (!r)
			r = store_index_save(root, idx);
		if (r < 0) {
			r = ctw_err_set(err, -r, "update `%s/images`", root);
			goto out;
		}
		msg_add(&msg, "Untagged: %s", name);
		goto out;
	}
	if (!by_name && json_array_size(names) > 1 && !force) {
		r = ctw_err_setx(err, EBUSY,
				 "image %s has %zu names: remove them one by one, or use -f", id,
				 json_array_size(names));
		goto out;
	}
	char who[256];
	bool used = ctw_image_in_use(NULL, id, who, sizeof(who));
	if (used && !force) {
		r = ctw_err_setx(err, EBUSY, "image %s is in use by container %s (-f untags it)",
				 ref, who);
		goto out;
	}
	size_t i;
	json_t *v;
	json_array_foreach (names, i, v) {
		const char *nm = json_string_value(v);
		const char *owner = json_string_value(json_object_get(idx, nm));
		if (owner && !strcmp(owner, id))
			json_object_del(idx, nm);
		msg_add(&msg, "Untagged: %s", nm);
	}
	json_array_clear(names);
	r = store_index_save(root, idx);
	if (r < 0) {
		r = ctw_err_set(err, -r, "update `%s/images/index.json`", root);
		goto out;
	}
	if (used) {
		/* Kept, nameless, for the container that still runs on it. */
		r = record_save(root, rec);
		if (r < 0)
			r = ctw_err_set(err, -r, "update the record of %s", id);
		goto out;
	}
	rp = record_path(root, id);
	if (unlink(rp) < 0) {
		r = ctw_err_set(err, errno, "remove `%s`", rp);
		goto out;
	}
	msg_add(&msg, "Deleted: %s", id);
	gc_layers(root, &msg);
	r = 0;
out:
	json_decref(idx);
	json_decref(rec);
	store_unlock(lock);
	if (r == 0 && msg_out)
		*msg_out = msg;
	else
		free(msg);
	return r;
}

int ctw_image_gc(const char *root, char **msg_out, struct ctw_err *err)
{
	root = store_root(root);
	if (!ctw_path_exists(root))
		return 0;
	int lock = store_lock(root, err); /* sweeps ROOT/tmp */
	if (lock < 0)
		return lock;
	char *msg = NULL;
	gc_layers(root, &msg);
	store_unlock(lock);
	if (msg_out)
		*msg_out = msg;
	else
		free(msg);
	return 0;
}
