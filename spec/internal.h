/* SPDX-License-Identifier: Apache-2.0 */
/* spec/ private declarations shared by the module's files (other modules
 * include spec/spec.h only). */
#ifndef CTW_SPEC_INTERNAL_H
#define CTW_SPEC_INTERNAL_H

#include <jansson.h>

#include "spec.h"

/* model.c */
void strv_free(char **v);
char **strv_dup(char *const *v);
void strv_add(char ***v, const char *s);

/* walk.c: reading JSON with the path of the field at hand */
struct pc {
	const char *name; /* "config.json": every message starts with it */
	struct ctw_err *err;
	char path[480]; /* "linux.resources.memory" */
	size_t len;
};
/* Step into a member or an element; pc_leave(c, mark) steps back out. */
size_t pc_enter(struct pc *c, const char *key);
size_t pc_enter_idx(struct pc *c, size_t i);
void pc_leave(struct pc *c, size_t mark);
/* "NAME: PATH: message"; returns -EINVAL. */
int pc_fail(struct pc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The member key of o, NULL when absent or null. */
json_t *pc_member(json_t *o, const char *key);
/* Log (debug) the members of o not in known (NULL-terminated). */
void pc_unknown(struct pc *c, json_t *o, const char *const *known);
/* Getters: absent leaves *out alone and returns 0; a value of the wrong
 * type or range is an error naming key.  pc_req_*: absent is an error. */
int pc_object(struct pc *c, json_t *o, const char *key, json_t **out);
int pc_array(struct pc *c, json_t *o, const char *key, json_t **out);
int pc_vstr(struct pc *c, json_t *v, char **out);
int pc_str(struct pc *c, json_t *o, const char *key, char **out);
int pc_req_str(struct pc *c, json_t *o, const char *key, char **out);
int pc_bool(struct pc *c, json_t *o, const char *key, bool *out, bool *set);
int pc_vi64(struct pc *c, json_t *v, int64_t min, int64_t max, int64_t *out);
int pc_i64(struct pc *c, json_t *o, const char *key, int64_t min, int64_t max,
	   struct ctw_oi64 *out);
int pc_u64(struct pc *c, json_t *o, const char *key, uint64_t max, struct ctw_ou64 *out);
int pc_req_i64(struct pc *c, json_t *o, const char *key, int64_t min, int64_t max, int64_t *out);
/* A list of strings, each vetted by check (NULL: any). */
int pc_strv(struct pc *c, json_t *o, const char *key, char ***out,
	    int (*check)(struct pc *, const char *));
/* An object of strings (annotations, sysctl, unified), keys vetted. */
int pc_kvs(struct pc *c, json_t *o, const char *key, struct ctw_kvs *kvs,
	   int (*check_key)(struct pc *, const char *));
int pc_check_abs(struct pc *c, const char *s);
int pc_check_env(struct pc *c, const char *s);
/* The error of pc_fail, at member key. */
int pc_fail_at(struct pc *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* check(s) with the path at member key. */
int pc_check_at(struct pc *c, const char *key, int (*check)(struct pc *, const char *),
		const char *s);
/* A list of objects at key: *v (elements of size bytes, zeroed, one
 * spare) and *n grow before one reads each element, with the path at it; a
 * failure leaves the element read so far counted, for the caller's free. */
int pc_objects(struct pc *c, json_t *o, const char *key, size_t size, void **v, size_t *n,
	       int (*one)(struct pc *c, json_t *e, void *elem, void *ctx), void *ctx);
/* An error when a property ctrwatch does not implement says anything. */
int pc_unsupported(struct pc *c, json_t *o, const char *key);

/* parse_linux.c */
int spec_parse_linux(struct pc *c, json_t *o, struct ctw_spec_linux *l);
int spec_parse_resources(struct pc *c, json_t *ro, struct ctw_spec_resources *res);

/* parse.c, parse_linux.c: the names config.json uses, for the writer */
const char *spec_blkio_list_name(enum ctw_blkio_list l);
const char *spec_sc_flag_name(unsigned bit_index);
const char *spec_propagation_name(unsigned long flags);

/* write.c */
json_t *spec_resources_json(const struct ctw_spec_resources *r);

#endif /* CTW_SPEC_INTERNAL_H */
