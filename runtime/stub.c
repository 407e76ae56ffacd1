// SPDX-License-Identifier: Apache-2.0
/*
 * ctrwatch-stub (runtime/stub/), built into our binary: a sealed memfd copy
 * of it is what the container's init and its command's process execute
 * (stub.h), so that nothing a container can reach is a file it could write
 * (runc CVE-2019-5736).  The stub is a few KB: the copy costs a few system
 * calls per start, where re-executing ctrwatch itself from a read-only copy
 * cost a whole dynamic exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>

#include "internal.h"
#include "stub/stub.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#if !defined(CTW_STUB_BIN) && defined(__CPPCHECK__)
#define CTW_STUB_BIN "" /* (what the build gives) */
#elif !defined(CTW_STUB_BIN)
// cppcheck-suppress preprocessorErrorDirective
#error "CTW_STUB_BIN: the path of the built ctrwatch-stub (Makefile)"
#endif

__asm__(".section .rodata\n"
	".balign 16\n"
	"ctw_stub_start:\n"
	".incbin \"" CTW_STUB_BIN "\"\n"
	"ctw_stub_end:\n"
	".previous\n");
extern const char ctw_stub_start[] __asm__("ctw_stub_start");
extern const char ctw_stub_end[] __asm__("ctw_stub_end");

_Static_assert(sizeof(struct stub_sync_msg) == sizeof(struct sync_msg), "stub: sync_msg size");
_Static_assert(offsetof(struct stub_sync_msg, status) == offsetof(struct sync_msg, status),
	       "stub: sync_msg status");
_Static_assert(offsetof(struct stub_sync_msg, code) == offsetof(struct sync_msg, err.code),
	       "stub: sync_msg err.code");
_Static_assert(offsetof(struct stub_sync_msg, msg) == offsetof(struct sync_msg, err.msg),
	       "stub: sync_msg err.msg");
_Static_assert(STUB_SYNC_ERR == SYNC_ERR, "stub: SYNC_ERR");
_Static_assert(STUB_ERR_MSG_LEN == sizeof(((struct ctw_err *)0)->msg), "stub: message length");

int stub_memfd(struct ctw_err *err)
{
	int fd = memfd_create(STUB_INIT_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL) /* before Linux 6.3 */
		fd = memfd_create(STUB_INIT_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return ctw_err_set(err, errno, "memfd for the container's init");
	size_t len = (size_t)(ctw_stub_end - ctw_stub_start);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, ctw_stub_start + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			close(fd);
			return ctw_err_set(err, e, "write the container's init");
		}
		off += (size_t)w;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		int e = errno;
		close(fd);
		return ctw_err_set(err, e, "seal the container's init");
	}
	return fd;
}
