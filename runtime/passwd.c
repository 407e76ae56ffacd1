// SPDX-License-Identifier: Apache-2.0
/*
 * USER[:GROUP] of `run -u` and `exec -u`, resolved in the container's own
 * /etc/passwd and /etc/group.  Those files are the container's: a FIFO there
 * hung exec (it was opened with fopen), /dev/zero spun it, and a symlink
 * pointed it at a host file.  So they are read with ctw_read_in_root (inside
 * the root, regular files only, at most PASSWD_MAX bytes, never blocking)
 * and parsed here from memory, with no libc NSS and no stdio: the parser is
 * a pure function of the bytes (tests/fuzz/fuzz_passwd.c).  A file that is
 * not a small regular one is an error for a user or group given by name,
 * and a warning for ids given as numbers (root's by default).
 *
 * The format is the one fgetpwent/fgetgrent read: one entry a line,
 * name:passwd:uid:gid:gecos:dir:shell and name:passwd:gid:member,member...;
 * a line that does not parse is skipped, as they do.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* A passwd or group file larger than this is refused (a real one with
 * 10 000 users is ~1 MB). */
#define PASSWD_MAX (4u << 20)

static bool all_digits(const char *s, size_t n)
{
	if (!n || n > 10)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* A decimal id of at most 32 bits (uid_t, gid_t); false otherwise. */
static bool parse_id(const char *s, size_t n, uint32_t *out)
{
	if (!all_digits(s, n))
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

struct field {
	const char *p;
	size_t n;
};

/* Split the line [p, end) at ':' into at most max fields; the count. */
static size_t split(const char *p, const char *end, struct field *f, size_t max)
{
	size_t k = 0;
	while (k < max) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		f[k].p = p;
		f[k].n = (size_t)((c ? c : end) - p);
		k++;
		if (!c)
			break;
		p = c + 1;
	}
	return k;
}

static bool field_is(const struct field *f, const char *s)
{
	return f->n == strlen(s) && !memcmp(f->p, s, f->n);
}

/* The next line of [*p, end): its bounds, without the newline. */
static bool next_line(const char **p, const char *end, const char **ls, const char **le)
{
	if (*p >= end)
		return false;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	*ls = *p;
	*le = nl ? nl : end;
	*p = nl ? nl + 1 : end;
	return true;
}

int passwd_find(const char *data, size_t len, const char *user, struct pw_entry *pw)
{
	memset(pw, 0, sizeof(*pw));
	size_t ul = strlen(user);
	uint32_t want;
	bool by_id = parse_id(user, ul, &want);
	const char *p = data, *end = data + len, *ls, *le;
	while (next_line(&p, end, &ls, &le)) {
		struct field f[7];
		uint32_t uid, gid;
		/* Seven fields (the shell is the rest of the line); a NUL
		 * makes the line invalid, as a name cannot hold one. */
		if (split(ls, le, f, 7) != 7 || memchr(ls, '\0', (size_t)(le - ls)) || !f[0].n ||
		    !parse_id(f[2].p, f[2].n, &uid) || !parse_id(f[3].p, f[3].n, &gid))
			continue;
		if (by_id ? uid != want : (f[0].n != ul || memcmp(f[0].p, user, ul)))
			continue;
		pw->uid = uid;
		pw->gid = gid;
		pw->name = xasprintf("%.*s", (int)f[0].n, f[0].p);
		pw->home = xasprintf("%.*s", (int)f[5].n, f[5].p);
		return 1;
	}
	return 0;
}

void pw_entry_fini(struct pw_entry *pw)
{
	free(pw->name);
	free(pw->home);
	pw->name = pw->home = NULL;
}

/* Is name in the comma-separated member list f? */
static bool has_member(const struct field *f, const char *name)
{
	const char *p = f->p, *end = f->p + f->n;
	size_t nl = strlen(name);
	while (p <= end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end;
		if ((size_t)(e - p) == nl && !memcmp(p, name, nl))
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

int group_scan(const char *data, size_t len, const char *group, const char *member, gid_t *gid,
	       gid_t **groups, size_t *ngroups)
{
	bool found = false;
	uint32_t want = 0;
	bool by_id = group && parse_id(group, strlen(group), &want);
	const char *p = data, *end = data + len, *ls, *le;
	size_t cap = 0;
	while (next_line(&p, end, &ls, &le)) {
		struct field f[4];
		uint32_t g;
		if (split(ls, le, f, 4) != 4 || memchr(ls, '\0', (size_t)(le - ls)) || !f[0].n ||
		    !parse_id(f[2].p, f[2].n, &g))
			continue;
		if (group && !found && (by_id ? g == want : field_is(&f[0], group))) {
			*gid = g;
			found = true;
		}
		/* setgroups takes at most NGROUPS_MAX (65536): more are ignored. */
		if (member && groups && *ngroups < 65536 && has_member(&f[3], member)) {
			if (*ngroups == cap) {
				cap = cap ? cap * 2 : 8;
				*groups = xrealloc(*groups, cap * sizeof(gid_t));
			}
			(*groups)[(*ngroups)++] = g;
		}
	}
	return found;
}

/* Read /etc/NAME of the root rootfd: *data NULL (and 0) when it does not
 * exist; an error naming the file otherwise. */
static int read_db(int rootfd, const char *path, char **data, size_t *len, struct ctw_err *err)
{
	*data = NULL;
	*len = 0;
	int r = ctw_read_in_root(rootfd, path, PASSWD_MAX, data, len);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r == -EINVAL || r == -EISDIR)
		return ctw_err_setx(
			err, EINVAL,
			"%s of the container is not a regular file (a FIFO, a device or a "
			"directory there is refused)",
			path);
	if (r == -EFBIG)
		return ctw_err_setx(err, EFBIG, "%s of the container is larger than %u MiB", path,
				    PASSWD_MAX >> 20);
	if (r == -ELOOP || r == -EXDEV)
		return ctw_err_setx(err, -r,
				    "%s of the container: refused (a magic link, or a path "
				    "leaving the container's root)",
				    path);
	if (r < 0)
		return ctw_err_set(err, -r, "read %s of the container", path);
	return 0;
}

/* read_db, but for ids given as numbers (root's "0" by default) a file the
 * container broke only costs what it would have added (HOME, groups): a
 * warning, not a container one can no longer exec into. */
static int read_db_for(int rootfd, const char *path, bool numeric, char **data, size_t *len,
		       struct ctw_err *err)
{
	int r = read_db(rootfd, path, data, len, err);
	if (r && numeric) {
		pr_warn("%s; the user is given by id: going on without it", err ? err->msg : path);
		ctw_err_clear(err);
		return 0;
	}
	return r;
}

int passwd_resolve_user(int rootfd, const char *spec, struct user_ids *u, struct ctw_err *err)
{
	char user[256], *group = NULL;
	memset(u, 0, sizeof(*u));
	if (ctw_strlcpy(user, spec && *spec ? spec : "0", sizeof(user)) >= sizeof(user))
		return ctw_err_setx(err, EINVAL, "user `%.64s...`: too long", spec);
	char *colon = strchr(user, ':');
	if (colon) {
		*colon = '\0';
		group = colon + 1;
	}
	uint32_t id;
	bool numeric = parse_id(user, strlen(user), &id) &&
		       (!group || parse_id(group, strlen(group), &id));
	char *pwd, *grp;
	size_t pl, gl;
	int r = read_db_for(rootfd, "/etc/passwd", numeric, &pwd, &pl, err);
	if (r)
		return r;
	struct pw_entry pw;
	bool found = pwd && passwd_find(pwd, pl, user, &pw);
	free(pwd);
	if (found) {
		u->uid = pw.uid;
		u->gid = pw.gid;
		u->home = pw.home;
		pw.home = NULL;
	} else if (parse_id(user, strlen(user), &id)) {
		u->uid = id;
	} else {
		return ctw_err_setx(err, ENOENT,
				    "unable to find user %s: no matching entries in passwd file",
				    user);
	}
	r = read_db_for(rootfd, "/etc/group", numeric, &grp, &gl, err);
	if (r) {
		if (found)
			pw_entry_fini(&pw);
		user_ids_fini(u);
		return r;
	}
	gid_t g = u->gid;
	bool gfound = grp && group_scan(grp, gl, group, found && !group ? pw.name : NULL, &g,
					&u->groups, &u->ngroups);
	free(grp);
	if (found)
		pw_entry_fini(&pw);
	if (group) {
		if (gfound)
			u->gid = g;
		else if (parse_id(group, strlen(group), &id))
			u->gid = id;
		else {
			user_ids_fini(u);
			return ctw_err_setx(
				err, ENOENT,
				"unable to find group %s: no matching entries in group file",
				group);
		}
	}
	return 0;
}

void user_ids_fini(struct user_ids *u)
{
	free(u->groups);
	free(u->home);
	u->groups = NULL;
	u->home = NULL;
	u->ngroups = 0;
}
