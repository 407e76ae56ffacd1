// SPDX-License-Identifier: Apache-2.0
/* The runtime part of an OCI image config: Entrypoint, Cmd, Env, WorkingDir,
 * User, StopSignal (jansson).  The config comes with the image: lists and
 * strings are bounded (an exec could not take more anyway) so that nothing
 * downstream has to cope with 100 000 Env entries. */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define MAX_LIST 4096	       /* entries of Entrypoint, Cmd, Env */
#define MAX_STRING (128 << 10) /* the kernel's MAX_ARG_STRLEN */

static int strv_from(json_t *v, const char *what, char ***out, struct ctw_err *err)
{
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return ctw_err_setx(err, EINVAL, "config.%s: not an array", what);
	size_t n = json_array_size(v);
	if (n > MAX_LIST)
		return ctw_err_setx(err, E2BIG, "config.%s: %zu entries, more than %d", what, n,
				    MAX_LIST);
	char **s = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_array_get(v, i);
		const char *e = json_string_value(item);
		const char *why = !e					  ? "not a string"
				  : json_string_length(item) > MAX_STRING ? "longer than 128 KiB"
				  : strlen(e) != json_string_length(item) ? "holds a NUL byte"
									  : NULL;
		if (why) {
			image_strv_free(s);
			return ctw_err_setx(err, EINVAL, "config.%s[%zu]: %s", what, i, why);
		}
		s[i] = xstrdup(e);
	}
	*out = s;
	return 0;
}

static int str_from(json_t *v, const char *what, char **out, struct ctw_err *err)
{
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return ctw_err_setx(err, EINVAL, "config.%s: not a string", what);
	if (json_string_length(v) > MAX_STRING ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return ctw_err_setx(err, EINVAL,
				    "config.%s: longer than 128 KiB or holds a NUL byte", what);
	if (*json_string_value(v))
		*out = xstrdup(json_string_value(v));
	return 0;
}

int image_config_from_json(json_t *doc, struct ctw_image_config *cfg, struct ctw_err *err)
{
	memset(cfg, 0, sizeof(*cfg));
	if (!doc || json_is_null(doc))
		return 0;
	if (!json_is_object(doc))
		return ctw_err_setx(err, EINVAL, "image config: not an object");
	/* The whole config document has the runtime part under "config"
	 * (OCI) or "container_config" (old docker); accept the part itself. */
	json_t *c = json_object_get(doc, "config");
	if (!c && (json_object_get(doc, "rootfs") || json_object_get(doc, "architecture")))
		return 0;
	if (!c)
		c = doc;
	if (json_is_null(c))
		return 0;
	if (!json_is_object(c))
		return ctw_err_setx(err, EINVAL, "image config: \"config\" is not an object");
	int r;
	if ((r = strv_from(json_object_get(c, "Entrypoint"), "Entrypoint", &cfg->entrypoint,
			   err)) ||
	    (r = strv_from(json_object_get(c, "Cmd"), "Cmd", &cfg->cmd, err)) ||
	    (r = strv_from(json_object_get(c, "Env"), "Env", &cfg->env, err)) ||
	    (r = str_from(json_object_get(c, "WorkingDir"), "WorkingDir", &cfg->workdir, err)) ||
	    (r = str_from(json_object_get(c, "User"), "User", &cfg->user, err)) ||
	    (r = str_from(json_object_get(c, "StopSignal"), "StopSignal", &cfg->stop_signal,
			  err))) {
		ctw_image_config_fini(cfg);
		return r;
	}
	return 0;
}

int ctw_image_config_parse(const char *json, struct ctw_image_config *cfg, struct ctw_err *err)
{
	json_error_t je;
	json_t *doc = json_loads(json, 0, &je);
	if (!doc) {
		memset(cfg, 0, sizeof(*cfg));
		return ctw_err_setx(err, EINVAL, "image config: %s (line %d, column %d)", je.text,
				    je.line, je.column);
	}
	int r = image_config_from_json(doc, cfg, err);
	json_decref(doc);
	return r;
}

void image_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void ctw_image_config_fini(struct ctw_image_config *cfg)
{
	image_strv_free(cfg->entrypoint);
	image_strv_free(cfg->cmd);
	image_strv_free(cfg->env);
	free(cfg->workdir);
	free(cfg->user);
	free(cfg->stop_signal);
	memset(cfg, 0, sizeof(*cfg));
}
