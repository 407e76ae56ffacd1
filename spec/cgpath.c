// SPDX-License-Identifier: Apache-2.0
/*
 * linux.cgroupsPath as runc reads it.  Paths: "/a/b" from each hierarchy's
 * root, "a/b" below the runtime's own cgroup.  The systemd form
 * "slice:prefix:name" (what engines write with the systemd cgroup driver) is
 * mapped onto cgroupfs the way systemd lays it out, for hosts where ctrwatch
 * creates the cgroups itself: the slice is expanded ("a-b.slice" →
 * "/a.slice/a-b.slice", "" → "/system.slice", "-.slice" → "/"), and the
 * unit is "prefix-name.scope" ("name.scope" without prefix; name itself when
 * it is a slice).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Does s have the systemd form: two colons, no slash? */
static bool systemd_form(const char *s)
{
	const char *c1 = strchr(s, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	return c2 && !strchr(c2 + 1, ':') && !strchr(s, '/');
}

static int expand_slice(const char *slice, char *out, size_t size, struct ctw_err *err)
{
	size_t len = strlen(slice), sl = strlen(".slice");
	if (len <= sl || strcmp(slice + len - sl, ".slice") || strchr(slice, '/'))
		return ctw_err_setx(err, EINVAL, "invalid slice name `%s`", slice);
	out[0] = '\0';
	if (len == sl + 1 && slice[0] == '-') {
		ctw_strlcpy(out, "/", size);
		return 0;
	}
	size_t used = 0, n = len - sl;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && slice[i] != '-')
			continue;
		/* A component ends at i: the path gets the prefix up to it. */
		if (i == 0 || slice[i - 1] == '-' || (i == n && slice[n - 1] == '-'))
			return ctw_err_setx(err, EINVAL, "invalid slice name `%s`", slice);
		int w = snprintf(out + used, size - used, "/%.*s.slice", (int)i, slice);
		if (w < 0 || (size_t)w >= size - used)
			return ctw_err_setx(err, ENAMETOOLONG, "slice name `%s` too long", slice);
		used += (size_t)w;
	}
	return 0;
}

static int systemd_path(const char *s, char *out, size_t size, struct ctw_err *err)
{
	char buf[512];
	if (ctw_strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return ctw_err_setx(err, ENAMETOOLONG, "cgroupsPath `%s` too long", s);
	char *prefix = strchr(buf, ':');
	*prefix++ = '\0';
	char *name = strchr(prefix, ':');
	*name++ = '\0';
	if (!*name)
		return ctw_err_setx(err, EINVAL, "cgroupsPath `%s`: no unit name", s);
	char slice[PATH_MAX];
	int r = expand_slice(*buf ? buf : "system.slice", slice, sizeof(slice), err);
	if (r)
		return ctw_err_prefix(err, "cgroupsPath `%s`", s);
	const char *sep = strcmp(slice, "/") ? "/" : "";
	int w;
	if (ctw_str_has_suffix(name, ".slice")) {
		char sub[PATH_MAX];
		r = expand_slice(name, sub, sizeof(sub), err);
		if (r)
			return ctw_err_prefix(err, "cgroupsPath `%s`", s);
		/* A slice's path already holds its parents: "a-b.slice" is
		 * /a.slice/a-b.slice whatever the parent slice says. */
		w = snprintf(out, size, "%s", sub);
	} else if (*prefix) {
		w = snprintf(out, size, "%s%s%s-%s.scope", slice, sep, prefix, name);
	} else {
		w = snprintf(out, size, "%s%s%s.scope", slice, sep, name);
	}
	if (w < 0 || (size_t)w >= size)
		return ctw_err_setx(err, ENAMETOOLONG, "cgroupsPath `%s` too long", s);
	return 0;
}

int ctw_spec_cgroups_path(const char *cgroups_path, const char *default_rel, char *out, size_t size,
			  struct ctw_err *err)
{
	const char *p = cgroups_path && *cgroups_path ? cgroups_path : default_rel;
	if (!p || !*p)
		return ctw_err_setx(err, EINVAL, "no cgroupsPath");
	if (systemd_form(p))
		return systemd_path(p, out, size, err);
	/* No ".." component: a relative path stays below our cgroup, an
	 * absolute one where it says. */
	for (const char *c = p; (c = strstr(c, "..")); c += 2)
		if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
			return ctw_err_setx(err, EINVAL, "cgroupsPath `%s`: `..` is not allowed",
					    p);
	/* Clean repeated and trailing slashes. */
	size_t o = 0;
	for (const char *c = p; *c; c++) {
		if (*c == '/' && o && out[o - 1] == '/')
			continue;
		if (o + 1 >= size)
			return ctw_err_setx(err, ENAMETOOLONG, "cgroupsPath `%s` too long", p);
		out[o++] = *c;
	}
	while (o > 1 && out[o - 1] == '/')
		o--;
	out[o] = '\0';
	if (!strcmp(out, "/") || !strcmp(out, "."))
		return ctw_err_setx(err, EINVAL,
				    "cgroupsPath `%s`: a hierarchy's root is not a "
				    "container's cgroup",
				    p);
	return 0;
}
