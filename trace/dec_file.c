// SPDX-License-Identifier: Apache-2.0
/*
 * Files and directories: open and *at flags, access modes, the stat family
 * (strace's abbreviated {st_mode=S_IFREG|0644, st_size=10, ...}), statx,
 * getdents entry counts, and fcntl's commands, arguments and returns.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "internal.h"

/* ---- open flags ---- */

static const struct xlat open_flags[] = {
	XLAT(O_CREAT),
	XLAT(O_EXCL),
	XLAT(O_NOCTTY),
	XLAT(O_TRUNC),
	XLAT(O_APPEND),
	XLAT(O_NONBLOCK),
	/* O_SYNC includes O_DSYNC's bit: test it first */
	XLAT(O_SYNC),
	XLAT(O_DSYNC),
	{020000, "O_ASYNC"},
	XLAT(O_DIRECT),
	{0100000, "O_LARGEFILE"},
	XLAT(O_NOFOLLOW),
	XLAT(O_NOATIME),
	XLAT(O_CLOEXEC),
	XLAT(O_PATH),
	/* O_TMPFILE includes O_DIRECTORY's bit */
	XLAT(O_TMPFILE),
	XLAT(O_DIRECTORY),
};

void ctw_trace_format_open_flags(struct ctw_outbuf *o, uint64_t flags)
{
	static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};

	put_s(o, acc[flags & O_ACCMODE]);
	flags &= ~(uint64_t)O_ACCMODE;
	if (flags) {
		put_c(o, '|');
		put_flags(o, open_flags, ARRAY_SIZE(open_flags), flags, NULL);
	}
}

ARGFN(arg_oflags)
{
	ctw_trace_format_open_flags(d->o, (uint32_t)d->ev->args[i]);
}

/* O_CLOEXEC and friends without an access mode (pipe2, dup3, ...). */
ARGFN(arg_fdflags)
{
	put_flags(d->o, open_flags, ARRAY_SIZE(open_flags), (uint32_t)d->ev->args[i], "0");
}

/* open, openat, creat: the mode only with O_CREAT or O_TMPFILE. */
int shown_open(const struct dctx *d)
{
	const struct ctw_sysinfo *si = d->si;

	for (int i = 1; i < si->nargs; i++)
		if (si->fn[i] == arg_octal && si->fn[i - 1] == arg_oflags &&
		    !(d->ev->args[i - 1] & (O_CREAT | (O_TMPFILE & ~O_DIRECTORY))))
			return i;
	return si->nargs;
}

/* ---- *at flags ---- */

static const struct xlat at_flags[] = {
	{0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_REMOVEDIR"},   {0x400, "AT_SYMLINK_FOLLOW"},
	{0x800, "AT_NO_AUTOMOUNT"},	{0x1000, "AT_EMPTY_PATH"}, {0x2000, "AT_STATX_FORCE_SYNC"},
	{0x4000, "AT_STATX_DONT_SYNC"}, {0x8000, "AT_RECURSIVE"},
};

void ctw_trace_format_at_flags(struct ctw_outbuf *o, uint64_t flags)
{
	put_flags(o, at_flags, ARRAY_SIZE(at_flags), flags, "0");
}

ARGFN(arg_atflags)
{
	ctw_trace_format_at_flags(d->o, (uint32_t)d->ev->args[i]);
}

ARGFN(arg_unlink_flags)
{
	arg_atflags(d, i);
}

ARGFN(arg_renameat2_flags)
{
	static const struct xlat t[] = {
		{1, "RENAME_NOREPLACE"},
		{2, "RENAME_EXCHANGE"},
		{4, "RENAME_WHITEOUT"},
	};

	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], "0");
}

ARGFN(arg_xattr_flags)
{
	static const struct xlat t[] = {{1, "XATTR_CREATE"}, {2, "XATTR_REPLACE"}};

	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], "0");
}

ARGFN(arg_access)
{
	static const struct xlat t[] = {XLAT(R_OK), XLAT(W_OK), XLAT(X_OK)};

	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], "F_OK");
}

ARGFN(arg_whence)
{
	static const struct xlat t[] = {
		XLAT(SEEK_SET), XLAT(SEEK_CUR), XLAT(SEEK_END), XLAT(SEEK_DATA), XLAT(SEEK_HOLE),
	};

	put_enum_ex(d->o, t, ARRAY_SIZE(t), (int32_t)d->ev->args[i], false, "SEEK_???");
}

ARGFN(arg_flock_how)
{
	static const struct xlat t[] = {XLAT(LOCK_SH), XLAT(LOCK_EX), XLAT(LOCK_NB), XLAT(LOCK_UN)};

	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], "0");
}

/* ---- the stat family ---- */

/* strace's print_symbolic_mode_t: S_IFDIR|S_ISVTX|0777 */
static void put_mode(struct ctw_outbuf *o, uint32_t mode)
{
	static const struct xlat types[] = {
		XLAT(S_IFREG), XLAT(S_IFSOCK), XLAT(S_IFIFO), XLAT(S_IFLNK),
		XLAT(S_IFDIR), XLAT(S_IFBLK),  XLAT(S_IFCHR),
	};
	const char *type = xlat_name(types, ARRAY_SIZE(types), mode & S_IFMT);
	uint32_t perm = mode & 0777;

	if (type) {
		put_s(o, type);
		put_c(o, '|');
	} else if (mode & S_IFMT) {
		put_octal(o, mode & S_IFMT);
		put_c(o, '|');
	}
	if (mode & S_ISUID)
		put_s(o, "S_ISUID|");
	if (mode & S_ISGID)
		put_s(o, "S_ISGID|");
	if (mode & S_ISVTX)
		put_s(o, "S_ISVTX|");
	put_octal(o, perm);
}

static void put_makedev(struct ctw_outbuf *o, uint64_t dev)
{
	put_s(o, "makedev(");
	put_hex(o, major(dev));
	put_s(o, ", ");
	put_hex(o, minor(dev));
	put_c(o, ')');
}

/* struct stat, as strace prints it without -v. */
ARGFN(arg_stat)
{
	struct stat st;

	if (ev_failed(d) || !item_copy(d, i, TRACE_CAP_MEM, true, &st, sizeof(st),
				       offsetof(struct stat, st_blksize))) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_s(d->o, "{st_mode=");
	put_mode(d->o, st.st_mode);
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		put_s(d->o, ", st_rdev=");
		put_makedev(d->o, st.st_rdev);
	} else {
		put_s(d->o, ", st_size=");
		put_i64(d->o, st.st_size);
	}
	put_s(d->o, ", ...}");
}

static const struct xlat statx_mask[] = {
	{0xfff, "STATX_ALL"},
	{0x7ff, "STATX_BASIC_STATS"},
	{0x1, "STATX_TYPE"},
	{0x2, "STATX_MODE"},
	{0x4, "STATX_NLINK"},
	{0x8, "STATX_UID"},
	{0x10, "STATX_GID"},
	{0x20, "STATX_ATIME"},
	{0x40, "STATX_MTIME"},
	{0x80, "STATX_CTIME"},
	{0x100, "STATX_INO"},
	{0x200, "STATX_SIZE"},
	{0x400, "STATX_BLOCKS"},
	{0x800, "STATX_BTIME"},
	{0x1000, "STATX_MNT_ID"},
	{0x2000, "STATX_DIOALIGN"},
	{0x4000, "STATX_MNT_ID_UNIQUE"},
	{0x8000, "STATX_SUBVOL"},
	{0x10000, "STATX_WRITE_ATOMIC"},
	{0x20000, "STATX_DIO_READ_ALIGN"},
};

ARGFN(arg_statx_mask)
{
	put_flags(d->o, statx_mask, ARRAY_SIZE(statx_mask), (uint32_t)d->ev->args[i], "0");
}

/* statx's flags: the sync type first, always named */
ARGFN(arg_statx_flags)
{
	static const char *const sync[] = {"AT_STATX_SYNC_AS_STAT", "AT_STATX_FORCE_SYNC",
					   "AT_STATX_DONT_SYNC", "0x6000"};
	uint32_t flags = d->ev->args[i];

	put_s(d->o, sync[(flags >> 13) & 3]);
	flags &= ~0x6000u;
	if (flags) {
		put_c(d->o, '|');
		ctw_trace_format_at_flags(d->o, flags);
	}
}

ARGFN(arg_statx)
{
	static const struct xlat attrs[] = {
		{0x4, "STATX_ATTR_COMPRESSED"},	   {0x10, "STATX_ATTR_IMMUTABLE"},
		{0x20, "STATX_ATTR_APPEND"},	   {0x40, "STATX_ATTR_NODUMP"},
		{0x800, "STATX_ATTR_ENCRYPTED"},   {0x1000, "STATX_ATTR_AUTOMOUNT"},
		{0x2000, "STATX_ATTR_MOUNT_ROOT"}, {0x100000, "STATX_ATTR_VERITY"},
		{0x200000, "STATX_ATTR_DAX"},	   {0x400000, "STATX_ATTR_WRITE_ATOMIC"},
	};
	struct statx stx;

	if (ev_failed(d) || !item_copy(d, i, TRACE_CAP_MEM, true, &stx, sizeof(stx),
				       offsetof(struct statx, stx_blocks))) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_s(d->o, "{stx_mask=");
	put_flags(d->o, statx_mask, ARRAY_SIZE(statx_mask), stx.stx_mask, "0");
	put_s(d->o, ", stx_attributes=");
	put_flags(d->o, attrs, ARRAY_SIZE(attrs), stx.stx_attributes, "0");
	put_s(d->o, ", stx_mode=");
	put_mode(d->o, stx.stx_mode);
	put_s(d->o, ", stx_size=");
	put_u64(d->o, stx.stx_size);
	put_s(d->o, ", ...}");
}

/* getdents: the buffer's address and how many entries it got */
ARGFN(arg_dents)
{
	const struct ctw_trace_item *it;

	put_ptr(d->o, d->ev->args[i]);
	if (ev_failed(d) || !item_get(d, i, TRACE_IT_COUNT, false, &it))
		return;
	put_s(d->o, " /* ");
	put_u64(d->o, it->full_len);
	put_s(d->o, it->full_len == 1 ? " entry */" : " entries */");
}

/* ---- fcntl ---- */

static const struct xlat fcntl_cmds[] = {
	XLAT(F_DUPFD),	       XLAT(F_GETFD),	   XLAT(F_SETFD),      XLAT(F_GETFL),
	XLAT(F_SETFL),	       XLAT(F_GETLK),	   XLAT(F_SETLK),      XLAT(F_SETLKW),
	XLAT(F_SETOWN),	       XLAT(F_GETOWN),	   XLAT(F_SETSIG),     XLAT(F_GETSIG),
	XLAT(F_SETOWN_EX),     XLAT(F_GETOWN_EX),  XLAT(F_OFD_GETLK),  XLAT(F_OFD_SETLK),
	XLAT(F_OFD_SETLKW),    XLAT(F_SETLEASE),   XLAT(F_GETLEASE),   XLAT(F_NOTIFY),
	XLAT(F_DUPFD_CLOEXEC), XLAT(F_SETPIPE_SZ), XLAT(F_GETPIPE_SZ), XLAT(F_ADD_SEALS),
	XLAT(F_GET_SEALS),
};

static const struct xlat lock_types[] = {XLAT(F_RDLCK), XLAT(F_WRLCK), XLAT(F_UNLCK)};

static const struct xlat seals[] = {
	XLAT(F_SEAL_SEAL),  XLAT(F_SEAL_SHRINK),       XLAT(F_SEAL_GROW),
	XLAT(F_SEAL_WRITE), XLAT(F_SEAL_FUTURE_WRITE),
};

ARGFN(arg_fcntl_cmd)
{
	put_enum_ex(d->o, fcntl_cmds, ARRAY_SIZE(fcntl_cmds), (int32_t)d->ev->args[i], true,
		    "F_???");
}

static int fcntl_cmd(const struct dctx *d)
{
	return (int32_t)d->ev->args[1];
}

/* Commands that take no third argument. */
int shown_fcntl(const struct dctx *d)
{
	switch (fcntl_cmd(d)) {
	case F_GETFD:
	case F_GETFL:
	case F_GETOWN:
	case F_GETSIG:
	case F_GETLEASE:
	case F_GETPIPE_SZ:
	case F_GET_SEALS: return 2;
	}
	return 3;
}

bool fcntl_returns_fd(const struct dctx *d)
{
	return fcntl_cmd(d) == F_DUPFD || fcntl_cmd(d) == F_DUPFD_CLOEXEC;
}

static void put_flock(struct dctx *d, int i, bool at_exit)
{
	struct flock fl;

	if ((at_exit && ev_failed(d)) ||
	    !item_copy(d, i, TRACE_CAP_MEM, at_exit, &fl, sizeof(fl), sizeof(fl))) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_s(d->o, "{l_type=");
	put_enum_ex(d->o, lock_types, ARRAY_SIZE(lock_types), fl.l_type, true, "F_???");
	put_s(d->o, ", l_whence=");
	{
		static const struct xlat wh[] = {XLAT(SEEK_SET), XLAT(SEEK_CUR), XLAT(SEEK_END)};

		put_enum_ex(d->o, wh, ARRAY_SIZE(wh), fl.l_whence, true, "SEEK_???");
	}
	put_s(d->o, ", l_start=");
	put_i64(d->o, fl.l_start);
	put_s(d->o, ", l_len=");
	put_i64(d->o, fl.l_len);
	if (at_exit) {
		put_s(d->o, ", l_pid=");
		put_i64(d->o, fl.l_pid);
	}
	put_c(d->o, '}');
}

/* F_SETOWN_EX, F_GETOWN_EX: {type=F_OWNER_PID, pid=0} */
static void put_owner_ex(struct dctx *d, int i, bool at_exit)
{
	static const struct xlat types[] = {XLAT(F_OWNER_TID), XLAT(F_OWNER_PID),
					    XLAT(F_OWNER_PGRP)};
	struct f_owner_ex ox;

	if ((at_exit && ev_failed(d)) ||
	    !item_copy(d, i, TRACE_CAP_MEM, at_exit, &ox, sizeof(ox), sizeof(ox))) {
		put_ptr(d->o, d->ev->args[i]);
		return;
	}
	put_s(d->o, "{type=");
	put_enum_ex(d->o, types, ARRAY_SIZE(types), ox.type, true, "F_OWNER_???");
	put_s(d->o, ", pid=");
	put_i64(d->o, ox.pid);
	put_c(d->o, '}');
}

ARGFN(arg_fcntl_arg)
{
	uint64_t v = d->ev->args[i];

	switch (fcntl_cmd(d)) {
	case F_SETFD: put_s(d->o, v & FD_CLOEXEC ? "FD_CLOEXEC" : "0"); return;
	case F_SETFL: ctw_trace_format_open_flags(d->o, (uint32_t)v); return;
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_SETLK:
	case F_OFD_SETLKW: put_flock(d, i, false); return;
	case F_GETLK:
	case F_OFD_GETLK: put_flock(d, i, true); return;
	case F_SETLEASE:
		put_enum_ex(d->o, lock_types, ARRAY_SIZE(lock_types), (int32_t)v, true, "F_???");
		return;
	case F_SETSIG: ctw_trace_format_signal(d->o, (uint32_t)v); return;
	case F_ADD_SEALS: put_flags(d->o, seals, ARRAY_SIZE(seals), (uint32_t)v, "0"); return;
	case F_SETOWN_EX: put_owner_ex(d, i, false); return;
	case F_GETOWN_EX: put_owner_ex(d, i, true); return;
	}
	put_i64(d->o, (int32_t)v);
}

/* umask: the old mask, in octal */
void ret_octal(struct dctx *d)
{
	put_octal(d->o, d->ev->ret);
}

/* F_GETFD: 0x1 (flags FD_CLOEXEC); F_GETFL: 0x8002 (flags O_RDWR|O_LARGEFILE) */
void ret_fcntl(struct dctx *d)
{
	int64_t ret = d->ev->ret;

	switch (fcntl_cmd(d)) {
	case F_GETFD:
		if (!ret)
			break;
		put_hex(d->o, ret);
		put_s(d->o, " (flags ");
		put_s(d->o, ret & FD_CLOEXEC ? "FD_CLOEXEC" : "0");
		if (ret & ~(int64_t)FD_CLOEXEC) {
			put_c(d->o, '|');
			put_hex(d->o, ret & ~(int64_t)FD_CLOEXEC);
		}
		put_c(d->o, ')');
		return;
	case F_GETFL:
		put_hex(d->o, ret);
		put_s(d->o, " (flags ");
		ctw_trace_format_open_flags(d->o, (uint32_t)ret);
		put_c(d->o, ')');
		return;
	case F_GETSIG:
		put_i64(d->o, ret);
		if (ret > 0) {
			put_s(d->o, " (");
			ctw_trace_format_signal(d->o, (uint32_t)ret);
			put_c(d->o, ')');
		}
		return;
	case F_GETLEASE:
		put_hex(d->o, ret);
		put_s(d->o, " (");
		put_enum_ex(d->o, lock_types, ARRAY_SIZE(lock_types), ret, true, "F_???");
		put_c(d->o, ')');
		return;
	case F_GET_SEALS:
		put_hex(d->o, ret);
		if (ret) {
			put_s(d->o, " (seals ");
			put_flags(d->o, seals, ARRAY_SIZE(seals), ret, "0");
			put_c(d->o, ')');
		}
		return;
	}
	put_i64(d->o, ret);
}
