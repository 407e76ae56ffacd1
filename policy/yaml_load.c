// SPDX-License-Identifier: Apache-2.0
/*
 * A bounded YAML loader for policy files: the text becomes a libyaml
 * document (what parse.c reads) only within limits that are checked while it
 * is read, so that no file can make the agent spend minutes or gigabytes
 * before it is told what is wrong.
 *
 *  - the text is UTF-8 without NUL bytes or control characters, checked first
 *    so that the error has the real line and column (libyaml's reader
 *    reports its encoding errors without a position);
 *  - at most CTW_POL_MAX_BYTES bytes, CTW_POL_MAX_DEPTH levels of nesting
 *    (libyaml's scanner is quadratic in the depth of flow collections), and
 *    CTW_POL_MAX_NODES nodes, an alias counting the nodes it stands for (so
 *    that "billion laughs" stops at the limit);
 *  - the top-level `rules:` list stops at its CTW_FW_MAX_RULES + 1-th item,
 *    not after building a million of them;
 *  - one document: a second one is an error, not silently ignored.
 *
 * libyaml's own loader (yaml_parser_load) does none of this, so the document
 * is built here from the parser's events, as yaml_parser_load builds it:
 * a collection's node is added when it starts (the first node is the root),
 * an alias reuses the node of its anchor.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pol_internal.h"
#include "xdp_fw.h"

static int fail(struct pol_load_error *e, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct pol_load_error *e, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	e->line = (int)m.line + 1;
	e->col = (int)m.column + 1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- the text: UTF-8, no NUL, no control characters ---- */

/* Is the code point one YAML allows in a stream (libyaml's reader check)? */
static bool yaml_printable(uint32_t c)
{
	return c == 0x09 || c == 0x0a || c == 0x0d || (c >= 0x20 && c <= 0x7e) || c == 0x85 ||
	       (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) ||
	       (c >= 0x10000 && c <= 0x10ffff);
}

/* Decode one UTF-8 sequence at p (n bytes left): its length, or 0 when it
 * is not valid UTF-8 (overlong, surrogate, past U+10FFFF, truncated). */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *out)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len;
	uint32_t c;

	if (p[0] < 0x80) {
		*out = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*out = c;
	return len;
}

int pol_text_check(const char *text, size_t len, size_t max_bytes, struct pol_load_error *e)
{
	const unsigned char *p = (const unsigned char *)text;
	yaml_mark_t m = {0};
	size_t i = 0, end = len < max_bytes ? len : max_bytes;

	if (end >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3; /* a UTF-8 byte order mark: not a character of line 1 */
	while (i < end) {
		uint32_t c;
		size_t l = utf8_next(p + i, len - i, &c);
		if (!l)
			return fail(e, m,
				    "invalid UTF-8 (byte 0x%02x): a policy file is UTF-8 text",
				    p[i]);
		if (c == 0)
			return fail(e, m, "NUL byte: a policy file is text");
		if (!yaml_printable(c))
			return fail(e, m, "control character U+%04X is not allowed in YAML",
				    (unsigned)c);
		i += l;
		/* Line breaks as libyaml counts them: LF, CR LF, CR, NEL, LS, PS. */
		if (c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029 ||
		    (c == '\r' && (i >= len || p[i] != '\n'))) {
			m.line++;
			m.column = 0;
		} else {
			m.column++;
		}
	}
	if (len > max_bytes)
		return fail(e, m, "the policy goes on past %zu KiB, the limit for a policy file",
			    max_bytes >> 10);
	return 0;
}

/* ---- building the document ---- */

struct frame {
	int node;
	bool is_map;
	int pending_key; /* mappings: the key waiting for its value */
	bool rules;	 /* the top-level rules: list */
	size_t items;
	uint64_t size; /* nodes below, aliases expanded */
};

struct loader {
	yaml_document_t *doc;
	struct pol_load_error *e;
	struct frame stack[CTW_POL_MAX_DEPTH];
	int depth;
	uint64_t *sizes; /* per node id (1-based): nodes it stands for */
	size_t sizes_cap;
	uint64_t total;		   /* nodes so far, aliases expanded */
	struct pol_strmap anchors; /* name -> node id */
};

static void set_size(struct loader *l, int node, uint64_t size)
{
	if ((size_t)node >= l->sizes_cap) {
		size_t cap = l->sizes_cap ? l->sizes_cap : 64;
		while (cap <= (size_t)node)
			cap *= 2;
		l->sizes = xrealloc(l->sizes, cap * sizeof(*l->sizes));
		memset(l->sizes + l->sizes_cap, 0, (cap - l->sizes_cap) * sizeof(*l->sizes));
		l->sizes_cap = cap;
	}
	l->sizes[node] = size;
}

static int count_nodes(struct loader *l, uint64_t n, yaml_mark_t m)
{
	l->total += n;
	if (l->total > CTW_POL_MAX_NODES)
		return fail(l->e, m,
			    "more than %d YAML nodes (aliases count each time they are used): "
			    "too large for a policy",
			    CTW_POL_MAX_NODES);
	return 0;
}

/* A node starts at m: is there room for it where it goes? */
static int child_starts(struct loader *l, yaml_mark_t m)
{
	if (!l->depth)
		return 0;
	struct frame *f = &l->stack[l->depth - 1];
	if (f->rules && ++f->items > CTW_FW_MAX_RULES)
		return fail(l->e, m, "too many rules: this is rule %zu, at most %d are allowed",
			    f->items, CTW_FW_MAX_RULES);
	return 0;
}

/* Is the node a scalar with this text? */
static bool scalar_is(struct loader *l, int id, const char *s)
{
	yaml_node_t *n = yaml_document_get_node(l->doc, id);
	return n && n->type == YAML_SCALAR_NODE && !strcmp((const char *)n->data.scalar.value, s);
}

/* A node is complete: attach it to the collection it is in. */
static int add_child(struct loader *l, int id, uint64_t size)
{
	if (!l->depth)
		return 0;
	struct frame *f = &l->stack[l->depth - 1];
	f->size += size;
	int ok;
	if (!f->is_map) {
		ok = yaml_document_append_sequence_item(l->doc, f->node, id);
	} else if (!f->pending_key) {
		f->pending_key = id;
		ok = 1;
	} else {
		ok = yaml_document_append_mapping_pair(l->doc, f->node, f->pending_key, id);
		f->pending_key = 0;
	}
	return ok ? 0 : -ENOMEM;
}

static bool in_open_collection(struct loader *l, int id)
{
	for (int i = 0; i < l->depth; i++)
		if (l->stack[i].node == id)
			return true;
	return false;
}

static int on_alias(struct loader *l, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	size_t *v = pol_strmap_get(&l->anchors, name, false);
	int id = v ? (int)*v : 0;
	if (!id)
		return fail(l->e, ev->start_mark, "undefined alias *%s", name);
	if (in_open_collection(l, id))
		return fail(l->e, ev->start_mark,
			    "alias *%s refers to a collection that contains it", name);
	uint64_t size = l->sizes[id];
	int r = child_starts(l, ev->start_mark);
	if (r == 0)
		r = count_nodes(l, size, ev->start_mark);
	/* `rules: *x`: the list it names counts too. */
	if (r == 0 && l->depth == 1 && l->stack[0].is_map && l->stack[0].pending_key &&
	    scalar_is(l, l->stack[0].pending_key, "rules")) {
		yaml_node_t *n = yaml_document_get_node(l->doc, id);
		size_t items = n->type == YAML_SEQUENCE_NODE
				       ? (size_t)(n->data.sequence.items.top -
						  n->data.sequence.items.start)
				       : 0;
		if (items > CTW_FW_MAX_RULES)
			r = fail(l->e, ev->start_mark,
				 "too many rules: %zu, at most %d are allowed", items,
				 CTW_FW_MAX_RULES);
	}
	return r ? r : add_child(l, id, size);
}

static const yaml_char_t *tag_or_default(const yaml_char_t *tag)
{
	/* "!" is the non-specific tag: the default, as yaml_parser_load does. */
	return tag && strcmp((const char *)tag, "!") ? tag : NULL;
}

static int on_scalar(struct loader *l, yaml_event_t *ev)
{
	int r = child_starts(l, ev->start_mark);
	if (r == 0)
		r = count_nodes(l, 1, ev->start_mark);
	if (r < 0)
		return r;
	int id = yaml_document_add_scalar(
		l->doc, (yaml_char_t *)tag_or_default(ev->data.scalar.tag), ev->data.scalar.value,
		(int)ev->data.scalar.length, ev->data.scalar.style);
	if (!id) /* libyaml refuses a tag that is not UTF-8 ("!%ff") */
		return fail(l->e, ev->start_mark, "invalid tag");
	yaml_node_t *n = yaml_document_get_node(l->doc, id);
	n->start_mark = ev->start_mark;
	n->end_mark = ev->end_mark;
	set_size(l, id, 1);
	if (ev->data.scalar.anchor)
		*pol_strmap_get(&l->anchors, (const char *)ev->data.scalar.anchor, true) =
			(size_t)id; /* a redefined anchor names the later node */
	return add_child(l, id, 1);
}

static int on_start(struct loader *l, yaml_event_t *ev, bool is_map)
{
	if (l->depth == CTW_POL_MAX_DEPTH)
		return fail(l->e, ev->start_mark,
			    "nesting deeper than %d levels: too deep for a policy",
			    CTW_POL_MAX_DEPTH);
	int r = child_starts(l, ev->start_mark);
	if (r == 0)
		r = count_nodes(l, 1, ev->start_mark);
	if (r < 0)
		return r;
	const yaml_char_t *anchor, *tag;
	int id;
	if (is_map) {
		anchor = ev->data.mapping_start.anchor;
		tag = tag_or_default(ev->data.mapping_start.tag);
		id = yaml_document_add_mapping(l->doc, (yaml_char_t *)tag,
					       ev->data.mapping_start.style);
	} else {
		anchor = ev->data.sequence_start.anchor;
		tag = tag_or_default(ev->data.sequence_start.tag);
		id = yaml_document_add_sequence(l->doc, (yaml_char_t *)tag,
						ev->data.sequence_start.style);
	}
	if (!id)
		return fail(l->e, ev->start_mark, "invalid tag");
	yaml_document_get_node(l->doc, id)->start_mark = ev->start_mark;
	set_size(l, id, 1);
	if (anchor)
		*pol_strmap_get(&l->anchors, (const char *)anchor, true) = (size_t)id;
	bool rules = !is_map && l->depth == 1 && l->stack[0].is_map && l->stack[0].pending_key &&
		     scalar_is(l, l->stack[0].pending_key, "rules");
	l->stack[l->depth++] =
		(struct frame){.node = id, .is_map = is_map, .rules = rules, .size = 1};
	return 0;
}

static int on_end(struct loader *l, yaml_event_t *ev)
{
	struct frame f = l->stack[--l->depth];
	yaml_document_get_node(l->doc, f.node)->end_mark = ev->end_mark;
	set_size(l, f.node, f.size);
	return add_child(l, f.node, f.size);
}

static int syntax_error(yaml_parser_t *p, struct pol_load_error *e)
{
	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->context)
		return fail(e, p->problem_mark, "%s %s (which started at %d:%d)",
			    p->problem ? p->problem : "syntax error", p->context,
			    (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	return fail(e, p->problem_mark, "%s", p->problem ? p->problem : "syntax error");
}

int pol_yaml_load(const char *text, size_t len, yaml_document_t *doc, struct pol_load_error *e)
{
	yaml_parser_t parser;
	struct loader l = {.doc = doc, .e = e};
	bool have_doc = false, done = false;
	int r = pol_text_check(text, len, CTW_POL_MAX_BYTES, e);

	memset(doc, 0, sizeof(*doc));
	if (r < 0)
		return r;
	if (!text)
		text = ""; /* libyaml asserts on NULL input */
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (r == 0 && !done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			r = syntax_error(&parser, e);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (have_doc) {
				r = fail(e, ev.start_mark,
					 "a second YAML document: a policy file holds one");
				break;
			}
			have_doc = true;
			if (!yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1))
				r = -ENOMEM;
			break;
		case YAML_ALIAS_EVENT: r = on_alias(&l, &ev); break;
		case YAML_SCALAR_EVENT: r = on_scalar(&l, &ev); break;
		case YAML_SEQUENCE_START_EVENT: r = on_start(&l, &ev, false); break;
		case YAML_MAPPING_START_EVENT: r = on_start(&l, &ev, true); break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT: r = on_end(&l, &ev); break;
		case YAML_STREAM_END_EVENT: done = true; break;
		default: break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	pol_strmap_fini(&l.anchors);
	free(l.sizes);
	if (r == 0 && !have_doc && !yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1))
		r = -ENOMEM;
	if (r < 0 && have_doc)
		yaml_document_delete(doc);
	if (r == -ENOMEM)
		snprintf(e->msg, sizeof(e->msg), "out of memory");
	return r;
}
