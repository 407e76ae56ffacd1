// SPDX-License-Identifier: Apache-2.0
/*
 * The spec's linux.seccomp compiled with libseccomp into a classic BPF
 * program, in the parent (the child only installs it, right before exec).
 * Rules follow runc: names unknown on this architecture are skipped, a rule
 * whose action is the default one adds nothing, and a rule comparing the
 * same argument twice is added once per comparison (OR), else once with
 * all of them (AND).
 *
 * Compiling Docker's default profile costs a few milliseconds of libseccomp
 * per container; the program only depends on the profile and libseccomp,
 * so it is kept in ROOT/cache/ (root's own directory, as trusted as the
 * layers next to it).  A cache file holds the profile it was made from,
 * byte for byte, and is used only for that same profile: no hash is
 * trusted to tell two profiles apart.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>

#include <seccomp.h>

#include "internal.h"

/* Filters are laid out as a binary tree of syscall numbers rather than
 * libseccomp's default list.  The kernel walks the filter once per syscall
 * number, with interrupts off, when it is installed (to cache which calls
 * are always allowed): through a ~330-instruction list that took 0.3-1 ms
 * of every container's start here; through the tree, a few steps each.
 * Every syscall the container makes is also checked in O(log n). */
#define FILTER_OPTIMIZE 2

#define CACHE_MAGIC 0x43575343u /* "CSWC" */
#define PROG_MAX 4096		/* instructions (the kernel's BPF_MAXINSNS) */

static uint32_t scmp_action(enum ctw_sc_action a, struct ctw_ou64 err_ret)
{
	uint32_t e = err_ret.set ? (uint32_t)err_ret.v & 0xffff : EPERM;
	switch (a) {
	case CTW_SC_ALLOW: return SCMP_ACT_ALLOW;
	case CTW_SC_ERRNO: return SCMP_ACT_ERRNO(e);
	case CTW_SC_TRACE: return SCMP_ACT_TRACE(e);
	case CTW_SC_TRAP: return SCMP_ACT_TRAP;
	case CTW_SC_LOG: return SCMP_ACT_LOG;
	case CTW_SC_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
	case CTW_SC_NOTIFY: return SCMP_ACT_NOTIFY;
	case CTW_SC_KILL:
	case CTW_SC_KILL_THREAD:
	default: return SCMP_ACT_KILL_THREAD;
	}
}

static const enum scmp_compare scmp_ops[] = {
	[CTW_SC_NE] = SCMP_CMP_NE,
	[CTW_SC_LT] = SCMP_CMP_LT,
	[CTW_SC_LE] = SCMP_CMP_LE,
	[CTW_SC_EQ] = SCMP_CMP_EQ,
	[CTW_SC_GE] = SCMP_CMP_GE,
	[CTW_SC_GT] = SCMP_CMP_GT,
	[CTW_SC_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

static scmp_filter_ctx new_filter(uint32_t def)
{
	scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return NULL;
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	/* Older libseccomp (< 2.5) lacks it: then the list it is. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, FILTER_OPTIMIZE);
	return ctx;
}

/* "SCMP_ARCH_X86_64" → libseccomp's token, 0 when it does not know it. */
static uint32_t arch_token(const char *name)
{
	char low[32];
	const char *p = ctw_str_has_prefix(name, "SCMP_ARCH_") ? name + 10 : name;
	size_t i = 0;
	for (; p[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
	low[i] = '\0';
	return seccomp_arch_resolve_name(low);
}

static int add_rule(scmp_filter_ctx ctx, uint32_t def, const struct ctw_spec_sc_rule *r, size_t idx,
		    struct ctw_err *err)
{
	uint32_t act = scmp_action(r->action, r->errno_ret);
	if (act == def)
		return 0; /* libseccomp refuses rules that change nothing */
	struct scmp_arg_cmp cmp[6];
	unsigned count[6] = {0};
	size_t n = r->n_args < 6 ? r->n_args : 6;
	bool repeated = false;
	for (size_t i = 0; i < n; i++) {
		cmp[i] = (struct scmp_arg_cmp){
			.arg = r->args[i].index,
			.op = scmp_ops[r->args[i].op],
			.datum_a = r->args[i].value,
			.datum_b = r->args[i].value_two,
		};
		repeated |= ++count[r->args[i].index % 6] > 1;
	}
	for (char **name = r->names; name && *name; name++) {
		int nr = seccomp_syscall_resolve_name(*name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture: as runc and Docker */
		int rc = 0;
		if (repeated) {
			for (size_t i = 0; i < n && !rc; i++)
				rc = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[i]);
		} else {
			rc = seccomp_rule_add_array(ctx, act, nr, (unsigned)n, cmp);
		}
		if (rc && rc != -EEXIST)
			return ctw_err_set(err, -rc, "seccomp: syscalls[%zu]: rule for %s", idx,
					   *name);
	}
	return 0;
}

static int export_prog(scmp_filter_ctx ctx, struct sock_fprog **out, struct ctw_err *err)
{
	int fd = memfd_create("seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return ctw_err_set(err, errno, "seccomp: memfd");
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc) {
		close(fd);
		return ctw_err_set(err, -rc, "seccomp: export filter");
	}
	off_t len = lseek(fd, 0, SEEK_END);
	if (len <= 0 || len % sizeof(struct sock_filter) ||
	    len / sizeof(struct sock_filter) > PROG_MAX) {
		close(fd);
		return ctw_err_setx(err, EINVAL, "seccomp: the filter is empty or too large");
	}
	struct sock_fprog *p = xcalloc(1, sizeof(*p));
	p->len = (unsigned short)(len / sizeof(struct sock_filter));
	p->filter = xmalloc((size_t)len);
	if (pread(fd, p->filter, (size_t)len, 0) != len) {
		close(fd);
		seccomp_prog_free(p);
		return ctw_err_setx(err, EIO, "seccomp: read exported filter");
	}
	close(fd);
	*out = p;
	return 0;
}

static int compile(const struct ctw_spec_seccomp *sc, struct sock_fprog **prog, struct ctw_err *err)
{
	uint32_t def = scmp_action(sc->default_action, sc->default_errno_ret);
	scmp_filter_ctx ctx = new_filter(def);
	if (!ctx)
		return ctw_err_setx(err, ENOMEM, "seccomp_init");
	int r = 0;
	for (size_t i = 0; sc->architectures && sc->architectures[i] && !r; i++) {
		uint32_t a = arch_token(sc->architectures[i]);
		if (!a) {
			r = ctw_err_setx(err, EINVAL,
					 "seccomp: architectures[%zu]: %s is unknown to libseccomp",
					 i, sc->architectures[i]);
			break;
		}
		int rc = seccomp_arch_add(ctx, a);
		if (rc && rc != -EEXIST)
			r = ctw_err_set(err, -rc, "seccomp: add architecture %s",
					sc->architectures[i]);
	}
	for (size_t i = 0; i < sc->n_rules && !r; i++)
		r = add_rule(ctx, def, &sc->rules[i], i, err);
	if (!r)
		r = export_prog(ctx, prog, err);
	seccomp_release(ctx);
	return r;
}

/* ---- the cache ---- */

static void key_add(char **buf, size_t *len, size_t *cap, const void *data, size_t n)
{
	if (*len + n > *cap) {
		*cap = (*len + n) * 2 + 256;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, data, n);
	*len += n;
}

/* The profile as bytes: everything the program depends on. */
static char *cache_key(const struct ctw_spec_seccomp *sc, size_t *len)
{
	char *b = NULL;
	size_t cap = 0;
	*len = 0;
	const struct scmp_version *v = seccomp_version();
	uint32_t head[6] = {FILTER_OPTIMIZE,
			    v ? v->major : 0,
			    v ? v->minor : 0,
			    v ? v->micro : 0,
			    scmp_action(sc->default_action, sc->default_errno_ret),
			    (uint32_t)sc->n_rules};
	key_add(&b, len, &cap, head, sizeof(head));
	for (char **a = sc->architectures; a && *a; a++)
		key_add(&b, len, &cap, *a, strlen(*a) + 1);
	key_add(&b, len, &cap, "", 1);
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct ctw_spec_sc_rule *r = &sc->rules[i];
		uint32_t act = scmp_action(r->action, r->errno_ret);
		key_add(&b, len, &cap, &act, sizeof(act));
		for (char **n = r->names; n && *n; n++)
			key_add(&b, len, &cap, *n, strlen(*n) + 1);
		key_add(&b, len, &cap, "", 1);
		for (size_t k = 0; k < r->n_args; k++) {
			uint64_t a[4] = {r->args[k].index, r->args[k].value, r->args[k].value_two,
					 (uint64_t)r->args[k].op};
			key_add(&b, len, &cap, a, sizeof(a));
		}
		key_add(&b, len, &cap, "\n", 1);
	}
	return b;
}

static uint64_t fnv(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static char *cache_path(const char *key, size_t len)
{
	return xasprintf("%s/cache/seccomp-%016llx.bpf", ctw_root_dir(),
			 (unsigned long long)fnv(key, len));
}

/* File: magic, key length, key, program. */
static struct sock_fprog *cache_load(const char *path, const char *key, size_t klen)
{
	char *data;
	size_t len;
	if (ctw_read_file(path, &data, &len))
		return NULL;
	uint32_t head[2];
	struct sock_fprog *p = NULL;
	if (len < sizeof(head))
		goto out;
	memcpy(head, data, sizeof(head));
	size_t off = sizeof(head) + head[1], plen = len - off;
	if (head[0] != CACHE_MAGIC || head[1] != klen || len < off ||
	    memcmp(data + sizeof(head), key, klen) || !plen || plen % sizeof(struct sock_filter) ||
	    plen / sizeof(struct sock_filter) > PROG_MAX)
		goto out;
	p = xcalloc(1, sizeof(*p));
	p->len = (unsigned short)(plen / sizeof(struct sock_filter));
	p->filter = xmalloc(plen);
	memcpy(p->filter, data + off, plen);
out:
	free(data);
	return p;
}

static void cache_store(const char *path, const char *key, size_t klen, const struct sock_fprog *p)
{
	char *dir = xasprintf("%s/cache", ctw_root_dir());
	size_t plen = p->len * sizeof(struct sock_filter), len = 8 + klen + plen;
	char *buf = xmalloc(len);
	uint32_t head[2] = {CACHE_MAGIC, (uint32_t)klen};
	memcpy(buf, head, sizeof(head));
	memcpy(buf + 8, key, klen);
	memcpy(buf + 8 + klen, p->filter, plen);
	if (ctw_mkdir_p(dir, 0700) == 0)
		ctw_write_file_atomic(path, buf, len);
	free(buf);
	free(dir);
}

int seccomp_compile_spec(const struct ctw_spec_seccomp *sc, struct sock_fprog **prog,
			 struct ctw_err *err)
{
	*prog = NULL;
	size_t klen;
	char *key = cache_key(sc, &klen);
	char *cpath = cache_path(key, klen);
	*prog = cache_load(cpath, key, klen);
	int r = 0;
	if (!*prog) {
		r = compile(sc, prog, err);
		if (!r)
			cache_store(cpath, key, klen, *prog);
	}
	free(cpath);
	free(key);
	return r;
}

int seccomp_compile(const char *profile, uint64_t caps, struct sock_fprog **prog,
		    struct ctw_err *err)
{
	*prog = NULL;
	if (profile && !strcmp(profile, "unconfined"))
		return 0;
	struct ctw_spec_seccomp *sc = NULL;
	int r = 0;
	if (profile && *profile)
		r = seccomp_spec_docker(profile, caps, &sc, err);
	else
		sc = seccomp_spec_default(caps);
	if (!r)
		r = seccomp_compile_spec(sc, prog, err);
	ctw_spec_seccomp_free(sc);
	return r;
}

unsigned seccomp_install_flags(unsigned spec_flags)
{
	unsigned f = 0;
	if (spec_flags & CTW_SC_FLAG_LOG)
		f |= SECCOMP_FILTER_FLAG_LOG;
	if (spec_flags & CTW_SC_FLAG_SPEC_ALLOW)
		f |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	if (spec_flags & CTW_SC_FLAG_TSYNC)
		f |= SECCOMP_FILTER_FLAG_TSYNC;
	return f;
}

int seccomp_install_with(const struct sock_fprog *prog, unsigned flags, struct ctw_err *err)
{
	if (!prog)
		return 0;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog) < 0)
		return ctw_err_set(err, errno, "install seccomp filter");
	return 0;
}

int seccomp_install(const struct sock_fprog *prog, struct ctw_err *err)
{
	return seccomp_install_with(prog, 0, err);
}

void seccomp_prog_free(struct sock_fprog *prog)
{
	if (prog)
		free(prog->filter);
	free(prog);
}
