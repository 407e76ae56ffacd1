// SPDX-License-Identifier: Apache-2.0
/* libmicrohttpd (and through it GnuTLS and its dozen libraries), loaded on
 * first use (see lib.h): only the agent serves HTTP.  Wrappers exist for the
 * calls http.c makes and a few it may reasonably grow into; a call without a
 * wrapper here is a link error, not a silent fallback. */
#include <stdarg.h>

#include <microhttpd.h>

#include "../lib/lib.h"

struct ctw_dl_lib ctw_libmicrohttpd = {.soname = "libmicrohttpd.so.12",
				       .package = "libmicrohttpd12"};
#define L ctw_libmicrohttpd

/* Variadic: handed on to the va_list form. */
struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
				    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	struct MHD_Daemon *d;
	va_list ap;

	va_start(ap, dh_cls);
	d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

CTW_DL_FN(L, struct MHD_Daemon *, MHD_start_daemon_va,
	  (unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,
	   MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap),
	  (flags, port, apc, apc_cls, dh, dh_cls, ap))
CTW_DL_VOID(L, MHD_stop_daemon, (struct MHD_Daemon * d), (d))
CTW_DL_FN(L, MHD_socket, MHD_quiesce_daemon, (struct MHD_Daemon * d), (d))
CTW_DL_FN(L, enum MHD_Result, MHD_is_feature_supported, (enum MHD_FEATURE f), (f))
/* Variadic in the header, but no info type of 0.9.x reads the extra arguments. */
CTW_DL_FN(L, const union MHD_DaemonInfo *, MHD_get_daemon_info,
	  (struct MHD_Daemon * d, enum MHD_DaemonInfoType t, ...), (d, t))
CTW_DL_FN(L, struct MHD_Response *, MHD_create_response_from_buffer,
	  (size_t size, void *buffer, enum MHD_ResponseMemoryMode mode), (size, buffer, mode))
CTW_DL_FN(L, struct MHD_Response *, MHD_create_response_from_buffer_with_free_callback,
	  (size_t size, void *buffer, MHD_ContentReaderFreeCallback crfc), (size, buffer, crfc))
CTW_DL_FN(L, struct MHD_Response *, MHD_create_response_from_buffer_with_free_callback_cls,
	  (size_t size, void *buffer, MHD_ContentReaderFreeCallback crfc, void *crfc_cls),
	  (size, buffer, crfc, crfc_cls))
CTW_DL_FN(L, struct MHD_Response *, MHD_create_response_from_fd64, (uint64_t size, int fd),
	  (size, fd))
CTW_DL_VOID(L, MHD_destroy_response, (struct MHD_Response * r), (r))
CTW_DL_FN(L, enum MHD_Result, MHD_add_response_header,
	  (struct MHD_Response * r, const char *header, const char *content), (r, header, content))
CTW_DL_FN(L, enum MHD_Result, MHD_queue_response,
	  (struct MHD_Connection * c, unsigned int status, struct MHD_Response *r), (c, status, r))
CTW_DL_FN(L, enum MHD_Result, MHD_queue_basic_auth_fail_response,
	  (struct MHD_Connection * c, const char *realm, struct MHD_Response *r), (c, realm, r))
CTW_DL_FN(L, const char *, MHD_lookup_connection_value,
	  (struct MHD_Connection * c, enum MHD_ValueKind kind, const char *key), (c, kind, key))
CTW_DL_FN(L, char *, MHD_basic_auth_get_username_password,
	  (struct MHD_Connection * c, char **password), (c, password))
CTW_DL_FN(L, const union MHD_ConnectionInfo *, MHD_get_connection_info,
	  (struct MHD_Connection * c, enum MHD_ConnectionInfoType t, ...), (c, t))
CTW_DL_VOID(L, MHD_free, (void *ptr), (ptr))
