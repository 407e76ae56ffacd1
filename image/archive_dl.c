// SPDX-License-Identifier: Apache-2.0
/* libarchive, loaded on first use (see lib.h, "libraries loaded on first use"):
 * only `import` and the first run of the built-in busybox image need it. */
#include <stdio.h>

#include <archive.h>
#include <archive_entry.h>

#include "internal.h"

struct ctw_dl_lib ctw_libarchive = {.soname = "libarchive.so.13", .package = "libarchive13"};
#define L ctw_libarchive

CTW_DL_FN(L, struct archive *, archive_read_new, (void), ())
CTW_DL_FN(L, int, archive_read_free, (struct archive * a), (a))
CTW_DL_FN(L, int, archive_read_support_format_tar, (struct archive * a), (a))
CTW_DL_FN(L, int, archive_read_support_format_gnutar, (struct archive * a), (a))
CTW_DL_FN(L, int, archive_read_open,
	  (struct archive * a, void *data, archive_open_callback *o, archive_read_callback *r,
	   archive_close_callback *c),
	  (a, data, o, r, c))
CTW_DL_FN(L, int, archive_read_next_header, (struct archive * a, struct archive_entry **e), (a, e))
CTW_DL_FN(L, int, archive_read_data_block,
	  (struct archive * a, const void **buff, size_t *size, la_int64_t *offset),
	  (a, buff, size, offset))
CTW_DL_FN(L, const char *, archive_error_string, (struct archive * a), (a))
CTW_DL_FN(L, struct archive *, archive_write_new, (void), ())
CTW_DL_FN(L, int, archive_write_free, (struct archive * a), (a))
CTW_DL_FN(L, int, archive_write_set_format_pax_restricted, (struct archive * a), (a))
CTW_DL_FN(L, int, archive_write_open_filename, (struct archive * a, const char *file), (a, file))
CTW_DL_FN(L, int, archive_write_header, (struct archive * a, struct archive_entry *e), (a, e))
CTW_DL_FN(L, la_ssize_t, archive_write_data, (struct archive * a, const void *buf, size_t len),
	  (a, buf, len))
CTW_DL_FN(L, int, archive_write_close, (struct archive * a), (a))

/* Variadic: the message is formatted here and passed on as "%s". */
void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	CTW_DL_RESOLVE(L, archive_set_error)(a, err, "%s", msg);
}

CTW_DL_FN(L, struct archive_entry *, archive_entry_new, (void), ())
CTW_DL_VOID(L, archive_entry_free, (struct archive_entry * e), (e))
CTW_DL_FN(L, const char *, archive_entry_pathname, (struct archive_entry * e), (e))
CTW_DL_FN(L, const char *, archive_entry_hardlink, (struct archive_entry * e), (e))
CTW_DL_FN(L, const char *, archive_entry_symlink, (struct archive_entry * e), (e))
CTW_DL_FN(L, mode_t, archive_entry_filetype, (struct archive_entry * e), (e))
CTW_DL_FN(L, mode_t, archive_entry_perm, (struct archive_entry * e), (e))
CTW_DL_FN(L, la_int64_t, archive_entry_uid, (struct archive_entry * e), (e))
CTW_DL_FN(L, la_int64_t, archive_entry_gid, (struct archive_entry * e), (e))
CTW_DL_FN(L, la_int64_t, archive_entry_size, (struct archive_entry * e), (e))
CTW_DL_FN(L, time_t, archive_entry_mtime, (struct archive_entry * e), (e))
CTW_DL_FN(L, long, archive_entry_mtime_nsec, (struct archive_entry * e), (e))
CTW_DL_FN(L, dev_t, archive_entry_rdev, (struct archive_entry * e), (e))
CTW_DL_FN(L, int, archive_entry_xattr_reset, (struct archive_entry * e), (e))
CTW_DL_FN(L, int, archive_entry_xattr_next,
	  (struct archive_entry * e, const char **name, const void **value, size_t *size),
	  (e, name, value, size))
CTW_DL_VOID(L, archive_entry_set_pathname, (struct archive_entry * e, const char *p), (e, p))
CTW_DL_VOID(L, archive_entry_set_symlink, (struct archive_entry * e, const char *p), (e, p))
CTW_DL_VOID(L, archive_entry_set_filetype, (struct archive_entry * e, unsigned int t), (e, t))
CTW_DL_VOID(L, archive_entry_set_perm, (struct archive_entry * e, mode_t m), (e, m))
CTW_DL_VOID(L, archive_entry_set_uid, (struct archive_entry * e, la_int64_t id), (e, id))
CTW_DL_VOID(L, archive_entry_set_gid, (struct archive_entry * e, la_int64_t id), (e, id))
CTW_DL_VOID(L, archive_entry_set_size, (struct archive_entry * e, la_int64_t s), (e, s))
CTW_DL_VOID(L, archive_entry_set_mtime, (struct archive_entry * e, time_t t, long ns), (e, t, ns))

/* Used by the unit tests to write test layers. */
CTW_DL_FN(L, int, archive_write_add_filter_gzip, (struct archive * a), (a))
CTW_DL_VOID(L, archive_entry_set_hardlink, (struct archive_entry * e, const char *p), (e, p))
CTW_DL_VOID(L, archive_entry_xattr_add_entry,
	    (struct archive_entry * e, const char *name, const void *value, size_t size),
	    (e, name, value, size))
