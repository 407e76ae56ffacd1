// SPDX-License-Identifier: Apache-2.0
/*
 * The walker config.json is read with: it keeps the path of the field being
 * read ("linux.resources.memory.limit", "mounts[3].options") so that every
 * error names the field, and typed getters that check what they read.  A
 * JSON null counts as absent (Go writes nil as null).  Unknown properties
 * are logged at debug level and ignored, as the spec asks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

size_t pc_enter(struct pc *c, const char *key)
{
	size_t mark = c->len;
	int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s", c->len ? "." : "",
			 key);
	if (n > 0)
		c->len = strnlen(c->path, sizeof(c->path) - 1);
	return mark;
}

size_t pc_enter_idx(struct pc *c, size_t i)
{
	size_t mark = c->len;
	int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%zu]", i);
	if (n > 0)
		c->len = strnlen(c->path, sizeof(c->path) - 1);
	return mark;
}

void pc_leave(struct pc *c, size_t mark)
{
	c->len = mark;
	c->path[mark] = '\0';
}

int pc_fail(struct pc *c, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->len)
		return ctw_err_setx(c->err, EINVAL, "%s: %s: %s", c->name, c->path, msg);
	return ctw_err_setx(c->err, EINVAL, "%s: %s", c->name, msg);
}

/* The member key of o; NULL when absent or null (Go writes nil as null). */
json_t *pc_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_null(v) ? NULL : v;
}

/* Log the properties of o not in known (NULL-terminated). */
void pc_unknown(struct pc *c, json_t *o, const char *const *known)
{
	const char *k;
	json_t *v;
	json_object_foreach (o, k, v) {
		const char *const *p = known;
		while (*p && strcmp(*p, k))
			p++;
		if (!*p)
			pr_debug("%s: %s%s%s: unknown property, ignored", c->name, c->path,
				 c->len ? "." : "", k);
	}
}

/* The object at key (NULL: absent), or an error when it is not one. */
int pc_object(struct pc *c, json_t *o, const char *key, json_t **out)
{
	*out = pc_member(o, key);
	if (*out && !json_is_object(*out)) {
		size_t m = pc_enter(c, key);
		int r = pc_fail(c, "not an object");
		pc_leave(c, m);
		return r;
	}
	return 0;
}

int pc_array(struct pc *c, json_t *o, const char *key, json_t **out)
{
	*out = pc_member(o, key);
	if (*out && !json_is_array(*out)) {
		size_t m = pc_enter(c, key);
		int r = pc_fail(c, "not a list");
		pc_leave(c, m);
		return r;
	}
	return 0;
}

int pc_vstr(struct pc *c, json_t *v, char **out)
{
	if (!json_is_string(v))
		return pc_fail(c, "not a string");
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 0;
}

int pc_str(struct pc *c, json_t *o, const char *key, char **out)
{
	json_t *v = pc_member(o, key);
	if (!v)
		return 0;
	size_t m = pc_enter(c, key);
	int r = pc_vstr(c, v, out);
	pc_leave(c, m);
	return r;
}

int pc_req_str(struct pc *c, json_t *o, const char *key, char **out)
{
	if (!pc_member(o, key)) {
		size_t m = pc_enter(c, key);
		int r = pc_fail(c, "required");
		pc_leave(c, m);
		return r;
	}
	return pc_str(c, o, key, out);
}

int pc_bool(struct pc *c, json_t *o, const char *key, bool *out, bool *set)
{
	json_t *v = pc_member(o, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		size_t m = pc_enter(c, key);
		int r = pc_fail(c, "not a boolean");
		pc_leave(c, m);
		return r;
	}
	*out = json_is_true(v);
	if (set)
		*set = true;
	return 0;
}

int pc_vi64(struct pc *c, json_t *v, int64_t min, int64_t max, int64_t *out)
{
	if (json_is_real(v))
		return pc_fail(c, "not an integer");
	if (!json_is_integer(v))
		return pc_fail(c, "not a number");
	json_int_t n = json_integer_value(v);
	if (n < min || n > max)
		return pc_fail(c, "%lld is out of range (%lld to %lld)", (long long)n,
			       (long long)min, (long long)max);
	*out = n;
	return 0;
}

int pc_i64(struct pc *c, json_t *o, const char *key, int64_t min, int64_t max, struct ctw_oi64 *out)
{
	json_t *v = pc_member(o, key);
	if (!v)
		return 0;
	size_t m = pc_enter(c, key);
	int r = pc_vi64(c, v, min, max, &out->v);
	pc_leave(c, m);
	if (!r)
		out->set = true;
	return r;
}

int pc_u64(struct pc *c, json_t *o, const char *key, uint64_t max, struct ctw_ou64 *out)
{
	struct ctw_oi64 t = {0};
	int r = pc_i64(c, o, key, 0, max > INT64_MAX ? INT64_MAX : (int64_t)max, &t);
	if (!r && t.set) {
		out->v = (uint64_t)t.v;
		out->set = true;
	}
	return r;
}

int pc_req_i64(struct pc *c, json_t *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
	struct ctw_oi64 t = {0};
	if (!pc_member(o, key)) {
		size_t m = pc_enter(c, key);
		int r = pc_fail(c, "required");
		pc_leave(c, m);
		return r;
	}
	int r = pc_i64(c, o, key, min, max, &t);
	if (!r)
		*out = t.v;
	return r;
}

/* A list of strings; check (may be NULL) vets each element. */
int pc_strv(struct pc *c, json_t *o, const char *key, char ***out,
	    int (*check)(struct pc *, const char *))
{
	json_t *a;
	int r = pc_array(c, o, key, &a);
	if (r || !a)
		return r;
	size_t m = pc_enter(c, key), i;
	json_t *v;
	char **list = xcalloc(json_array_size(a) + 1, sizeof(char *));
	json_array_foreach (a, i, v) {
		size_t mi = pc_enter_idx(c, i);
		if (!json_is_string(v))
			r = pc_fail(c, "not a string");
		else if (check)
			r = check(c, json_string_value(v));
		pc_leave(c, mi);
		if (r)
			break;
		list[i] = xstrdup(json_string_value(v));
	}
	pc_leave(c, m);
	if (r) {
		strv_free(list);
		return r;
	}
	strv_free(*out);
	*out = list;
	return 0;
}

int pc_check_abs(struct pc *c, const char *s)
{
	return s[0] == '/' ? 0 : pc_fail(c, "`%s` is not an absolute path", s);
}

int pc_check_env(struct pc *c, const char *s)
{
	const char *eq = strchr(s, '=');
	if (!eq)
		return pc_fail(c, "`%s` is not KEY=VALUE", s);
	if (eq == s)
		return pc_fail(c, "`%s`: empty variable name", s);
	return 0;
}

/* Reject a property ctrwatch does not implement when it says anything. */
int pc_unsupported(struct pc *c, json_t *o, const char *key)
{
	json_t *v = pc_member(o, key);
	if (!v || (json_is_object(v) && !json_object_size(v)) ||
	    (json_is_array(v) && !json_array_size(v)))
		return 0;
	size_t m = pc_enter(c, key);
	int r = pc_fail(c, "not supported by ctrwatch");
	pc_leave(c, m);
	return r;
}

int pc_kvs(struct pc *c, json_t *o, const char *key, struct ctw_kvs *kvs,
	   int (*check_key)(struct pc *, const char *))
{
	json_t *obj, *v;
	const char *k;
	int r = pc_object(c, o, key, &obj);
	if (r || !obj)
		return r;
	size_t m = pc_enter(c, key);
	json_object_foreach (obj, k, v) {
		size_t mk = pc_enter(c, k);
		if (!json_is_string(v))
			r = pc_fail(c, "not a string");
		else if (check_key)
			r = check_key(c, k);
		pc_leave(c, mk);
		if (r)
			break;
		ctw_kvs_set(kvs, k, json_string_value(v));
	}
	pc_leave(c, m);
	return r;
}

int pc_fail_at(struct pc *c, const char *key, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t m = pc_enter(c, key);
	int r = pc_fail(c, "%s", msg);
	pc_leave(c, m);
	return r;
}

int pc_check_at(struct pc *c, const char *key, int (*check)(struct pc *, const char *),
		const char *s)
{
	size_t m = pc_enter(c, key);
	int r = check(c, s);
	pc_leave(c, m);
	return r;
}

int pc_objects(struct pc *c, json_t *o, const char *key, size_t size, void **v, size_t *n,
	       int (*one)(struct pc *c, json_t *e, void *elem, void *ctx), void *ctx)
{
	json_t *a, *e;
	int r = pc_array(c, o, key, &a);
	if (r || !a)
		return r;
	size_t m = pc_enter(c, key), i;
	*v = xcalloc(json_array_size(a) + 1, size);
	json_array_foreach (a, i, e) {
		size_t mi = pc_enter_idx(c, i);
		void *elem = (char *)*v + (*n)++ * size;
		r = json_is_object(e) ? one(c, e, elem, ctx) : pc_fail(c, "not an object");
		pc_leave(c, mi);
		if (r)
			break;
	}
	pc_leave(c, m);
	return r;
}
