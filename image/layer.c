// SPDX-License-Identifier: Apache-2.0
/*
 * One layer: read a tar blob (gzip or plain) in a single pass that hashes the
 * blob (its digest), decompresses it with zlib, hashes the tar (its diff_id)
 * and hands the tar to libarchive.  Entries are written with *at() calls
 * below a directory fd, never following a symlink, so that no entry can land
 * outside the layer: an absolute path, a `..` component or a path through a
 * symlink rejects the whole layer with an error naming the entry.  OCI
 * whiteouts become overlayfs whiteouts.
 *
 * A blob is an image's, so it is hostile until proven otherwise: only a
 * regular file is read (a FIFO would block, /dev/zero never end), it is
 * verified against what the manifest says (size, then digest, or else its
 * diff_id) before a single entry is written, the uncompressed bytes of an
 * import are capped (struct layer_budget: a gzip bomb stops at the cap), and
 * the extended attributes overlayfs would interpret are dropped (see
 * xattr_allowed).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "internal.h"

#define CHUNK 65536
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OPAQUE_XATTR "trusted.overlay.opaque"

enum src_mode { SRC_PLAIN, SRC_GZIP };

/* The blob reader behind libarchive's read callback. */
struct src {
	int fd;	      /* borrowed; read with pread from offset 0 */
	uint64_t off; /* next offset to read */
	enum src_mode mode;
	bool in_eof, z_done, z_init, over_budget;
	z_stream z;
	struct sha256 h_blob, h_diff;
	uint64_t blob_size;
	struct layer_budget *budget; /* NULL: no cap */
	unsigned char in[CHUNK];
	size_t in_len;	    /* plain mode: bytes in `in` not yet handed out */
	bool first_pending; /* plain mode: the sniffed chunk waits in `in` */
	unsigned char out[CHUNK];
	char errmsg[256];
};

void layer_fmt_size(uint64_t n, char *buf, size_t size)
{
	if (n && !(n % (1ull << 30)))
		snprintf(buf, size, "%llu GiB", (unsigned long long)(n >> 30));
	else if (n && !(n % (1ull << 20)))
		snprintf(buf, size, "%llu MiB", (unsigned long long)(n >> 20));
	else
		snprintf(buf, size, "%llu bytes", (unsigned long long)n);
}

/* Count uncompressed bytes against the import's cap. */
static int src_charge(struct src *s, size_t n)
{
	struct layer_budget *b = s->budget;
	if (!b || !b->max)
		return 0;
	b->used += n;
	if (b->used <= b->max)
		return 0;
	char cap[32];
	layer_fmt_size(b->max, cap, sizeof(cap));
	snprintf(s->errmsg, sizeof(s->errmsg),
		 "more than %s uncompressed (the import limit, --max-size)", cap);
	s->over_budget = true;
	return -1;
}

static ssize_t src_fill(struct src *s)
{
	for (;;) {
		ssize_t r = pread(s->fd, s->in, sizeof(s->in), (off_t)s->off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(s->errmsg, sizeof(s->errmsg), "read: %s", strerror(errno));
			return -1;
		}
		if (r == 0)
			s->in_eof = true;
		s->off += (uint64_t)r;
		sha256_update(&s->h_blob, s->in, (size_t)r);
		s->blob_size += (uint64_t)r;
		return r;
	}
}

const char *layer_file_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symlink";
	default: return "of an unknown type";
	}
}

static int src_open(struct src *s, int fd, struct layer_budget *budget, struct ctw_err *err)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->budget = budget;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ctw_err_set(err, errno, "stat");
	if (!S_ISREG(st.st_mode))
		return ctw_err_setx(err, EINVAL, "not a regular file (%s)",
				    layer_file_type(st.st_mode));
	sha256_init(&s->h_blob);
	sha256_init(&s->h_diff);
	ssize_t r = src_fill(s);
	if (r < 0)
		return ctw_err_setx(err, EIO, "%s", s->errmsg);
	s->in_len = (size_t)r;
	if (r >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b) {
		s->mode = SRC_GZIP;
		if (inflateInit2(&s->z, 15 + 16) != Z_OK)
			return ctw_err_setx(err, ENOMEM, "inflateInit failed");
		s->z_init = true;
		s->z.next_in = s->in;
		s->z.avail_in = (uInt)r;
	} else if (r >= 4 && s->in[0] == 0x28 && s->in[1] == 0xb5 && s->in[2] == 0x2f &&
		   s->in[3] == 0xfd) {
		return ctw_err_setx(err, ENOTSUP, "zstd-compressed layers are not supported");
	} else {
		s->mode = SRC_PLAIN;
		s->first_pending = true;
	}
	return 0;
}

static void src_close(struct src *s)
{
	if (s->z_init)
		inflateEnd(&s->z);
	sha256_fini(&s->h_blob);
	sha256_fini(&s->h_diff);
}

/* Give inflate more input when it has used all it had. */
static int z_refill(struct src *s)
{
	if (s->z.avail_in || s->in_eof)
		return 0;
	ssize_t r = src_fill(s);
	if (r < 0)
		return -1;
	s->z.next_in = s->in;
	s->z.avail_in = (uInt)r;
	return 0;
}

/* Next chunk of uncompressed tar; 0 at the end, -1 on error (errmsg). */
static ssize_t src_next(struct src *s, const void **out)
{
	if (s->mode == SRC_PLAIN) {
		ssize_t r;
		if (s->first_pending) {
			s->first_pending = false;
			r = (ssize_t)s->in_len;
		} else {
			if (s->in_eof)
				return 0;
			r = src_fill(s);
			if (r <= 0)
				return r;
		}
		if (src_charge(s, (size_t)r) < 0)
			return -1;
		sha256_update(&s->h_diff, s->in, (size_t)r);
		*out = s->in;
		return r;
	}
	for (;;) {
		if (s->z_done)
			return 0;
		if (z_refill(s) < 0)
			return -1;
		if (s->z.avail_in == 0 && s->in_eof) {
			snprintf(s->errmsg, sizeof(s->errmsg), "truncated gzip stream");
			return -1;
		}
		s->z.next_out = s->out;
		s->z.avail_out = sizeof(s->out);
		int zr = inflate(&s->z, Z_NO_FLUSH);
		size_t produced = sizeof(s->out) - s->z.avail_out;
		if (zr == Z_STREAM_END) {
			/* Another gzip member may follow (concatenated gzip). */
			if (z_refill(s) < 0)
				return -1;
			if (s->z.avail_in == 0)
				s->z_done = true;
			else
				inflateReset(&s->z);
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			snprintf(s->errmsg, sizeof(s->errmsg), "gzip: %s",
				 s->z.msg ? s->z.msg : "corrupt data");
			return -1;
		}
		if (produced) {
			if (src_charge(s, produced) < 0)
				return -1;
			sha256_update(&s->h_diff, s->out, produced);
			*out = s->out;
			return (ssize_t)produced;
		}
	}
}

static la_ssize_t archive_cb_read(struct archive *a, void *data, const void **buf)
{
	struct src *s = data;
	ssize_t r = src_next(s, buf);
	if (r < 0)
		archive_set_error(a, EIO, "%s", s->errmsg);
	return r;
}

/* Read what libarchive left unread (end-of-archive padding) so that both
 * hashes cover the whole blob. */
static int src_drain(struct src *s)
{
	const void *p;
	ssize_t r;
	while ((r = src_next(s, &p)) > 0)
		;
	return r < 0 ? -1 : 0;
}

static void src_finish(struct src *s, struct layer_result *res)
{
	sha256_final(&s->h_blob, res->digest);
	sha256_final(&s->h_diff, res->diffid);
	res->size = s->blob_size;
}

/* ---- path handling ---- */

#define MAX_DEPTH 256

struct lpath {
	char buf[PATH_MAX];
	char *comp[MAX_DEPTH];
	int n;
};

/* Split an archive path into clean components; "" and "." are dropped.
 * Returns NULL or a reason to reject the entry. */
static const char *lpath_parse(struct lpath *p, const char *raw)
{
	p->n = 0;
	if (!raw)
		return "no path name";
	if (raw[0] == '/')
		return "absolute path";
	if (ctw_strlcpy(p->buf, raw, sizeof(p->buf)) >= sizeof(p->buf))
		return "path too long";
	char *save = NULL;
	for (char *c = strtok_r(p->buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, ".."))
			return "`..` in path";
		if (p->n == MAX_DEPTH)
			return "path too deep";
		p->comp[p->n++] = c;
	}
	return NULL;
}

/* Open the directory holding the last component, creating missing parents;
 * never follows a symlink.  Returns an fd or -1 with the reason in why. */
static int open_parent(int rootfd, const struct lpath *p, bool create, const char **why,
		       const char **where)
{
	int fd = dup(rootfd);
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	for (int i = 0; i < p->n - 1; i++) {
		int nfd = openat(fd, p->comp[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, p->comp[i], 0755) < 0 && errno != EEXIST)
				goto fail_errno;
			nfd = openat(fd, p->comp[i],
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd < 0) {
			struct stat st;
			if ((errno == ELOOP || errno == ENOTDIR) &&
			    fstatat(fd, p->comp[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode)) {
				*why = "path goes through a symlink";
				*where = p->comp[i];
				close(fd);
				return -1;
			}
			goto fail_errno;
		}
		close(fd);
		fd = nfd;
	}
	return fd;
fail_errno:
	*why = strerror(errno);
	close(fd);
	return -1;
}

/* Make room for a new entry: a later entry of the same name replaces an
 * earlier one (a directory stays when the new entry is a directory too). */
static int clear_name(int dirfd, const char *name, bool keep_dir)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir)
			return 1;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
			return -errno;
		return 0;
	}
	if (unlinkat(dirfd, name, 0) < 0)
		return -errno;
	return 0;
}

/*
 * Which extended attributes of a layer are applied.  overlayfs reads its own
 * trusted.overlay.* (user.overlay.* with userxattr) from the layers: an
 * image that brings them could redirect a directory to another path of the
 * lower layers, hide one (opaque), or claim metadata-only copies; the only
 * one a layer may mean is the opaque marker, which we set ourselves from the
 * OCI whiteout `.wh..wh..opq`.  Other trusted.* are for privileged host
 * software, and security.* labels (SELinux, SMACK, IMA/EVM signatures) are
 * the host's policy to give, not an image's.  Kept: user.* (but
 * user.overlay.*), system.posix_acl_* (ACLs) and security.capability (file
 * capabilities such as ping's, which the image rightly carries).
 */
bool layer_xattr_allowed(const char *name)
{
	if (ctw_str_has_prefix(name, "user."))
		return !ctw_str_has_prefix(name, "user.overlay.");
	return !strcmp(name, "security.capability") || !strcmp(name, "system.posix_acl_access") ||
	       !strcmp(name, "system.posix_acl_default");
}

static void apply_xattrs(struct archive_entry *e, int fd, const char *name)
{
	const char *k;
	const void *v;
	size_t len;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &k, &v, &len) == ARCHIVE_OK) {
		if (!layer_xattr_allowed(k)) {
			pr_debug("layer: xattr %s on %s dropped", k, name);
			continue;
		}
		if (fsetxattr(fd, k, v, len, 0) < 0)
			pr_debug("layer: xattr %s on %s: %s", k, name, strerror(errno));
	}
}

/* Unprivileged (unit tests, rootless use) files stay ours. */
static bool chown_failure_ok(void)
{
	return errno == EPERM && geteuid() != 0;
}

static int set_meta_fd(int fd, struct archive_entry *e)
{
	if (fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) < 0 && !chown_failure_ok())
		return -errno;
	if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return -errno;
	struct timespec ts[2] = {
		{.tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e)},
		{.tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e)},
	};
	if (futimens(fd, ts) < 0)
		return -errno;
	return 0;
}

#define REJECT(reason) ctw_err_setx(err, EPERM, "entry `%s`: %s", raw, reason)

static int extract_entry(struct archive *a, struct archive_entry *e, int rootfd,
			 const struct layer_budget *budget, struct ctw_err *err)
{
	const char *raw = archive_entry_pathname(e);
	struct lpath p;
	const char *why = lpath_parse(&p, raw);
	if (why)
		return REJECT(why);
	/* A sparse entry's data is small, its size need not be: the cap holds
	 * for what it claims too. */
	if (budget && budget->max && archive_entry_size(e) > 0 &&
	    (uint64_t)archive_entry_size(e) > budget->max) {
		char cap[32];
		layer_fmt_size(budget->max, cap, sizeof(cap));
		return ctw_err_setx(err, EFBIG,
				    "entry `%s`: %lld bytes, more than %s (the import limit, "
				    "--max-size)",
				    raw, (long long)archive_entry_size(e), cap);
	}
	if (p.n == 0) {
		/* The layer's root itself ("./"): only its metadata. */
		int mr = archive_entry_filetype(e) == AE_IFDIR ? set_meta_fd(rootfd, e) : 0;
		return mr < 0 ? ctw_err_set(err, -mr, "entry `%s`: metadata", raw) : 0;
	}

	const char *where = NULL;
	int dfd = open_parent(rootfd, &p, true, &why, &where);
	if (dfd < 0) {
		if (where)
			return ctw_err_setx(err, EPERM, "entry `%s`: %s (`%s`)", raw, why, where);
		return REJECT(why);
	}
	const char *base = p.comp[p.n - 1];
	int r = 0;
	mode_t type = archive_entry_filetype(e);
	const char *hardlink = archive_entry_hardlink(e);

	if (ctw_str_has_prefix(base, WH_PREFIX)) {
		if (!strcmp(base, WH_OPAQUE)) {
			if (fsetxattr(dfd, OPAQUE_XATTR, "y", 1, 0) < 0)
				r = ctw_err_set(err, errno, "entry `%s`: set %s", raw,
						OPAQUE_XATTR);
		} else if (ctw_str_has_prefix(base, WH_PREFIX WH_PREFIX)) {
			/* aufs metadata (.wh..wh.plnk, ...): not part of the tree */
		} else {
			const char *name = base + strlen(WH_PREFIX);
			if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) {
				r = REJECT("bad whiteout name");
			} else if ((r = clear_name(dfd, name, false)) < 0) {
				r = ctw_err_set(err, -r, "entry `%s`: replace", raw);
			} else if (mknodat(dfd, name, S_IFCHR | 0, makedev(0, 0)) < 0) {
				r = ctw_err_set(err, errno, "entry `%s`: whiteout", raw);
			}
		}
		close(dfd);
		return r < 0 ? r : 0;
	}

	if (hardlink) {
		struct lpath t;
		const char *twhy = lpath_parse(&t, hardlink);
		if (!twhy && t.n == 0)
			twhy = "hard link to the layer root";
		if (twhy) {
			r = ctw_err_setx(err, EPERM, "entry `%s`: hard link target `%s`: %s", raw,
					 hardlink, twhy);
			goto out_close;
		}
		const char *twhere = NULL;
		int tfd = open_parent(rootfd, &t, false, &twhy, &twhere);
		if (tfd < 0) {
			r = ctw_err_setx(err, EPERM, "entry `%s`: hard link target `%s`: %s", raw,
					 hardlink, twhy);
			goto out_close;
		}
		if ((r = clear_name(dfd, base, false)) < 0)
			r = ctw_err_set(err, -r, "entry `%s`: replace", raw);
		else if (linkat(tfd, t.comp[t.n - 1], dfd, base, 0) < 0)
			r = ctw_err_set(err, errno, "entry `%s`: link to `%s`", raw, hardlink);
		close(tfd);
		goto out_close;
	}

	r = clear_name(dfd, base, type == AE_IFDIR);
	if (r < 0) {
		r = ctw_err_set(err, -r, "entry `%s`: replace", raw);
		goto out_close;
	}

	switch (type) {
	case AE_IFDIR: {
		if (r == 0 && mkdirat(dfd, base, 0700) < 0) {
			r = ctw_err_set(err, errno, "entry `%s`: mkdir", raw);
			break;
		}
		int fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = ctw_err_set(err, errno, "entry `%s`: open", raw);
			break;
		}
		r = set_meta_fd(fd, e);
		apply_xattrs(e, fd, raw); /* after chown, which clears file caps */
		close(fd);
		if (r < 0)
			r = ctw_err_set(err, -r, "entry `%s`: metadata", raw);
		break;
	}
	case AE_IFREG: {
		int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				0600);
		if (fd < 0) {
			r = ctw_err_set(err, errno, "entry `%s`: create", raw);
			break;
		}
		const void *buf;
		size_t size;
		la_int64_t off;
		int ar;
		while ((ar = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
			const char *pb = buf;
			while (size) {
				ssize_t w = pwrite(fd, pb, size, off);
				if (w < 0) {
					if (errno == EINTR)
						continue;
					r = ctw_err_set(err, errno, "entry `%s`: write", raw);
					break;
				}
				pb += w;
				size -= (size_t)w;
				off += w;
			}
			if (r)
				break;
		}
		if (!r && ar != ARCHIVE_EOF)
			r = ctw_err_setx(err, EIO, "entry `%s`: %s", raw, archive_error_string(a));
		if (!r && ftruncate(fd, archive_entry_size(e)) < 0)
			r = ctw_err_set(err, errno, "entry `%s`: truncate", raw);
		if (!r) {
			int mr = set_meta_fd(fd, e);
			if (mr < 0)
				r = ctw_err_set(err, -mr, "entry `%s`: metadata", raw);
			else
				apply_xattrs(e, fd, raw); /* after chown: it clears caps */
		}
		close(fd);
		break;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (!target) {
			r = REJECT("symlink without target");
			break;
		}
		if (symlinkat(target, dfd, base) < 0) {
			r = ctw_err_set(err, errno, "entry `%s`: symlink", raw);
			break;
		}
		struct timespec ts[2] = {
			{.tv_sec = archive_entry_mtime(e)},
			{.tv_sec = archive_entry_mtime(e)},
		};
		if ((fchownat(dfd, base, archive_entry_uid(e), archive_entry_gid(e),
			      AT_SYMLINK_NOFOLLOW) < 0 &&
		     !chown_failure_ok()) ||
		    utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
			r = ctw_err_set(err, errno, "entry `%s`: metadata", raw);
		break;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO: {
		dev_t dev = type == AE_IFIFO ? 0 : archive_entry_rdev(e);
		if (mknodat(dfd, base, type | 0600, dev) < 0) {
			r = ctw_err_set(err, errno, "entry `%s`: mknod", raw);
			break;
		}
		int fd = openat(dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = ctw_err_set(err, errno, "entry `%s`: open", raw);
			break;
		}
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		struct timespec ts[2] = {
			{.tv_sec = archive_entry_mtime(e)},
			{.tv_sec = archive_entry_mtime(e)},
		};
		if ((fchownat(fd, "", archive_entry_uid(e), archive_entry_gid(e), AT_EMPTY_PATH) <
			     0 &&
		     !chown_failure_ok()) ||
		    chmod(proc, archive_entry_perm(e) & 07777) < 0 ||
		    utimensat(AT_FDCWD, proc, ts, 0) < 0)
			r = ctw_err_set(err, errno, "entry `%s`: metadata", raw);
		close(fd);
		break;
	}
	case AE_IFSOCK: break; /* sockets are not image content */
	default: r = REJECT("unknown entry type"); break;
	}
out_close:
	close(dfd);
	return r < 0 ? r : 0;
}

static int run(int fd, const char *dest, struct layer_budget *budget, struct layer_result *res,
	       struct ctw_err *err)
{
	struct src s;
	int r = src_open(&s, fd, budget, err);
	if (r < 0)
		goto out_src;
	int rootfd = -1;
	struct archive *a = NULL;
	if (dest) {
		rootfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0) {
			r = ctw_err_set(err, errno, "open `%s`", dest);
			goto out_src;
		}
		a = archive_read_new();
		archive_read_support_format_tar(a);
		archive_read_support_format_gnutar(a);
		if (archive_read_open(a, &s, NULL, archive_cb_read, NULL) != ARCHIVE_OK) {
			r = ctw_err_setx(err, EIO, "not a valid tar archive: %s",
					 archive_error_string(a));
			goto out_archive;
		}
		struct archive_entry *e;
		int ar;
		while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
			r = extract_entry(a, e, rootfd, budget, err);
			if (r < 0)
				goto out_archive;
		}
		if (ar != ARCHIVE_EOF) {
			r = ctw_err_setx(err, EIO, "not a valid tar archive: %s",
					 archive_error_string(a));
			goto out_archive;
		}
	}
	if (src_drain(&s) < 0) {
		r = ctw_err_setx(err, EIO, "%s", s.errmsg);
		goto out_archive;
	}
	src_finish(&s, res);
	r = 0;
out_archive:
	/* Over the cap, whatever libarchive made of the short read: say so. */
	if (r < 0 && s.over_budget)
		r = ctw_err_setx(err, EFBIG, "%s", s.errmsg);
	if (a)
		archive_read_free(a);
	if (rootfd >= 0)
		close(rootfd);
out_src:
	src_close(&s);
	return r;
}

int layer_open_blob(const char *path, struct ctw_err *err)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer (src_open
	 * then refuses anything but a regular file). */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return ctw_err_set(err, errno, "open `%s`", path);
	return fd;
}

int layer_extract_fd(int fd, const char *dest, struct layer_budget *budget,
		     struct layer_result *res, struct ctw_err *err)
{
	return run(fd, dest, budget, res, err);
}

int layer_extract(const char *blob_path, const char *dest, struct layer_budget *budget,
		  struct layer_result *res, struct ctw_err *err)
{
	int fd = layer_open_blob(blob_path, err);
	if (fd < 0)
		return fd;
	int r = run(fd, dest, budget, res, err);
	close(fd);
	return r;
}

int layer_hash_fd(int fd, struct layer_budget *budget, struct layer_result *res,
		  struct ctw_err *err)
{
	return run(fd, NULL, budget, res, err);
}

/* Is the blob what the manifest says, before anything of it is extracted?
 * Its size (no read at all), then its digest; with only a diff_id (docker
 * save), its uncompressed content, hashed within the cap. */
static int verify_first(int fd, const char *what, const struct layer_want *want,
			struct layer_budget *budget, struct ctw_err *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ctw_err_set(err, errno, "layer %s: stat", what);
	if (!S_ISREG(st.st_mode))
		return ctw_err_setx(err, EINVAL, "layer %s: not a regular file (%s)", what,
				    layer_file_type(st.st_mode));
	if (want->size >= 0 && st.st_size != want->size)
		return ctw_err_setx(err, EBADMSG, "blob %s: size %lld, descriptor says %lld", what,
				    (long long)st.st_size, (long long)want->size);
	if (want->digest) {
		char got[DIGEST_LEN];
		int r = sha256_fd(fd, got, NULL);
		if (r < 0)
			return ctw_err_set(err, -r, "layer %s: read", what);
		if (strcmp(got, want->digest))
			return ctw_err_setx(err, EBADMSG,
					    "blob %s: sha256 mismatch (content is %s)",
					    want->digest, got);
		return 0;
	}
	if (want->diffid) {
		/* The hash pass must not use up the extraction's budget. */
		struct layer_budget probe = budget ? *budget : (struct layer_budget){0};
		struct layer_result res;
		int r = layer_hash_fd(fd, &probe, &res, err);
		if (r < 0)
			return ctw_err_prefix(err, "layer %s", what);
		if (strcmp(res.diffid, want->diffid))
			return ctw_err_setx(err, EBADMSG,
					    "layer %s: uncompressed sha256 %s does not match the "
					    "config's diff_id %s",
					    what, res.diffid, want->diffid);
	}
	return 0;
}

int layer_prepare(const char *root, int fd, const char *name, const struct layer_want *want,
		  struct layer_budget *budget, char *diffid_out, char **tmp_out,
		  struct ctw_err *err)
{
	const char *what = want->digest ? want->digest : name ? name : "blob";
	struct layer_result res;
	char *tmp = NULL;
	int r;

	*tmp_out = NULL;
	r = verify_first(fd, what, want, budget, err);
	if (r < 0)
		return r;
	if (want->diffid && store_layer_exists(root, want->diffid)) {
		/* Stored already: verified, not extracted again.  A blob known
		 * only by its digest gets its diff_id from one hash pass. */
		if (want->digest) {
			r = layer_hash_fd(fd, budget, &res, err);
			if (r < 0)
				return ctw_err_prefix(err, "layer %s", what);
		} else {
			ctw_strlcpy(res.diffid, want->diffid, sizeof(res.diffid));
		}
	} else {
		r = store_mktemp(root, "layer", &tmp, err);
		if (r < 0)
			return r;
		r = layer_extract_fd(fd, tmp, budget, &res, err);
		if (r < 0) {
			ctw_err_prefix(err, "layer %s", what);
			goto out_rm;
		}
	}
	/* Checked again on what was extracted: the file may have changed
	 * since verify_first read it. */
	if (want->digest && strcmp(res.digest, want->digest)) {
		r = ctw_err_setx(err, EBADMSG, "blob %s: sha256 mismatch (content is %s)",
				 want->digest, res.digest);
		goto out_rm;
	}
	if (want->diffid && strcmp(res.diffid, want->diffid)) {
		r = ctw_err_setx(err, EBADMSG,
				 "layer %s: uncompressed sha256 %s does not match the config's "
				 "diff_id %s",
				 what, res.diffid, want->diffid);
		goto out_rm;
	}
	ctw_strlcpy(diffid_out, res.diffid, DIGEST_LEN);
	*tmp_out = tmp;
	return 0;
out_rm:
	if (tmp) {
		ctw_rm_rf(tmp);
		free(tmp);
	}
	return r;
}
