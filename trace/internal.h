/* SPDX-License-Identifier: Apache-2.0 */
/* trace/ private: the per-syscall description shared by its .c files. */
#ifndef CTW_TRACE_INTERNAL_H
#define CTW_TRACE_INTERNAL_H

#include "trace.h"

/* How one argument is printed. */
enum ctw_argk {
	K_HEX = 0,
	K_INT,
	K_LONG,
	K_UINT,
	K_ULONG,
	K_PTR,
	K_FD,
	K_DFD,
	K_PATH,
	K_STR,
	K_ARGV,
	K_OFLAGS,
	K_OMODE,
	K_MODE,
	K_ATFLAGS,
	K_PROT,
	K_MFLAGS,
	K_DOMAIN,
	K_STYPE,
	K_PROTO,
	K_SIG,
	K_SIGHOW,
	K_CLONE,
	K_ACCESS,
	K_FCNTL,
	K_FCNTLARG,
	K_MSGF,
	K_WAITOPT,
	K_WHENCE,
	K_SOCKF,
	K_FDFLAGS,
	K_BUFIN,
	K_BUFOUT,
	K_SAIN,
	K_SAOUT,
};

struct ctw_sysinfo {
	char name[32]; /* "" when libseccomp has no name */
	bool known;    /* described by the table */
	bool ret_hex;  /* returns an address */
	uint8_t nargs;
	unsigned classes; /* CTW_TC_* */
	uint8_t kind[TRACE_NARGS];
	struct ctw_trace_spec spec; /* captures, without TRACE_SPEC_SELECTED */
};

/* NULL for nr out of range. */
const struct ctw_sysinfo *ctw_trace_sysinfo(int nr);

#endif
