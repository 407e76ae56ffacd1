/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between ctrwatch and ctrwatch-stub (runtime/stub/ctrwatch-stub.c),
 * the tiny program that is all a container ever sees of ours run: its argv
 * and the error message it sends back.  No includes: the stub is built
 * without a libc.
 *
 *   ctrwatch-init CHILD READY
 *       The container's PID 1: not dumpable, closes fd READY (the command
 *       waits for that), then forwards signals to CHILD and reaps zombies
 *       until CHILD exits, with its status (128+N for signal N).  The
 *       signal mask (every signal but the synchronous ones blocked) and
 *       SIGTTIN/SIGTTOU ignored are inherited from ctrwatch.
 *   ctrwatch-exec READY SYNC SECCOMP PATH ARGV0 [ARG...]
 *       Wait until fd READY reads EOF (-1: no wait), then execve PATH with
 *       ARGV0 ARG... and the environment given; fd SYNC (-1: none) is
 *       close-on-exec for that execve, and gets a stub_sync_msg if it
 *       fails (exit 126, or 127 for ENOENT).  fd SECCOMP (-1: none) holds
 *       a struct stub_seccomp and its program, installed right before the
 *       execve: nothing else runs under the filter (a profile recorded of
 *       the command alone is enough to start it).
 */
#ifndef CTW_STUB_H
#define CTW_STUB_H

#define STUB_INIT_NAME "ctrwatch-init"
#define STUB_EXEC_NAME "ctrwatch-exec"

/* runtime/internal.h's struct sync_msg as the stub writes it (runtime/stub.c
 * checks that the layouts agree). */
#define STUB_SYNC_ERR 4 /* SYNC_ERR */
#define STUB_ERR_MSG_LEN 512
struct stub_sync_msg {
	int type;
	int status;
	int code; /* errno */
	char msg[STUB_ERR_MSG_LEN];
};

/* What the SECCOMP fd holds: this header, then len struct sock_filter
 * (8 bytes each; at most STUB_SECCOMP_MAX, the kernel's BPF_MAXINSNS). */
#define STUB_SECCOMP_MAX 4096
struct stub_seccomp {
	unsigned flags; /* seccomp(2) SECCOMP_SET_MODE_FILTER flags */
	unsigned len;
};

#endif /* CTW_STUB_H */
