// SPDX-License-Identifier: Apache-2.0
/* Runtime labels packed in struct ctw_container, the JSON they come from,
 * and the container's own memory (copy, release). */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "../lib/lib.h"

const char *ctw_jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *ctw_container_short_id(const char *id, char out[CTW_SHORT_ID_SIZE])
{
	size_t n = strnlen(id, CTW_SHORT_ID_SIZE);
	bool hex64 = n == 64 && strspn(id, "0123456789abcdef") == 64;
	/* a copy, not a snprintf: collectors ask for it per container and
	 * build (1 000 of them were ~0.2 ms of a build) */
	size_t k = hex64 ? 12 : n < CTW_SHORT_ID_SIZE - 1 ? n : CTW_SHORT_ID_SIZE - 1;
	memcpy(out, id, k);
	out[k] = '\0';
	return out;
}

void ctw_container_release(struct ctw_container *c)
{
	free(c->labels);
	free(c->cgroup_path);
	c->labels = NULL;
	c->cgroup_path = NULL;
	c->labels_len = c->nlabels = 0;
}

void ctw_container_copy(struct ctw_container *dst, const struct ctw_container *src)
{
	*dst = *src;
	dst->cgroup_path = src->cgroup_path ? xstrdup(src->cgroup_path) : NULL;
	dst->labels = NULL;
	if (src->labels_len) {
		dst->labels = xmalloc(src->labels_len);
		memcpy(dst->labels, src->labels, src->labels_len);
	}
}

void ctw_container_set_cgroup_path(struct ctw_container *c, const char *path)
{
	if (c->cgroup_path && !strcmp(c->cgroup_path, path))
		return;
	free(c->cgroup_path);
	c->cgroup_path = xstrdup(path);
}

int ctw_container_add_label(struct ctw_container *c, const char *key, const char *value)
{
	size_t kl = strnlen(key, CTW_LABEL_LEN - 1), vl = strnlen(value, CTW_LABEL_LEN - 1);
	size_t need = kl + 1 + vl + 1;
	const char *k, *v;
	for (k = NULL; (k = ctw_container_label_next(c, k, &v));) {
		if (strlen(k) != kl || strncmp(k, key, kl))
			continue;
		size_t old = (size_t)(v + strlen(v) + 1 - k);
		if (c->labels_len - old + need > CTW_LABELS_SIZE)
			return -ENOSPC;
		char *dst = c->labels + (k - c->labels);
		memmove(dst, dst + old, c->labels_len - old - (size_t)(k - c->labels));
		c->labels_len -= (uint16_t)old;
		c->nlabels--;
		break;
	}
	if (c->nlabels >= CTW_LABELS_MAX || c->labels_len + need > CTW_LABELS_SIZE)
		return -ENOSPC;
	/* exact size: a container's labels are added once, at discovery */
	c->labels = xrealloc(c->labels, c->labels_len + need);
	char *p = c->labels + c->labels_len;
	memcpy(p, key, kl);
	p[kl] = '\0';
	memcpy(p + kl + 1, value, vl);
	p[kl + 1 + vl] = '\0';
	c->labels_len += (uint16_t)need;
	c->nlabels++;
	return 0;
}

void labels_from_json(struct ctw_container *c, json_t *o)
{
	const char *k;
	json_t *v;
	if (!json_is_object(o))
		return;
	json_object_foreach (o, k, v)
		if (json_is_string(v) && ctw_container_add_label(c, k, json_string_value(v)))
			pr_debug("discovery: %s: label %.64s dropped (more than %d or %d bytes)",
				 c->name, k, CTW_LABELS_MAX, CTW_LABELS_SIZE);
}

void labels_from_json_text(struct ctw_container *c, const char *text)
{
	if (!text)
		return;
	json_t *o = json_loads(text, 0, NULL);
	labels_from_json(c, o);
	json_decref(o);
}
