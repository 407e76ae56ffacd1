// SPDX-License-Identifier: Apache-2.0
/*
 * The io.ctrwatch.trace annotation: `ctrwatch trace OPTIONS PID` started by
 * create on the container's init, attached in the kernel before create
 * returns, so that the process is traced from its execve at `start` on,
 * whichever engine created it.  The tracer is a session of its own outside
 * the container (in create's cgroup, the engine's), and ends by itself when
 * the container's cgroup goes (delete).  Its messages go to trace.err in
 * the container's state directory; without -o its output goes to trace.txt
 * there.  io.ctrwatch.seccomp-record=/PATH adds --seccomp-profile PATH (the
 * profile of what the container called, written when the tracer ends), to
 * the same tracer or to one of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

#define TRACE_ARGS_MAX 32
#define TRACE_ATTACH_MS 10000

/* The options, split at blanks (no quoting: an annotation is no shell). */
static int split_options(char *opts, char **argv, size_t max, bool *has_output, struct ctw_err *err)
{
	size_t n = 0;
	*has_output = false;
	for (char *save, *w = strtok_r(opts, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save)) {
		if (n + 1 >= max)
			return ctw_err_setx(err, E2BIG,
					    "annotation " CTW_OCI_TRACE_ANNOTATION
					    ": more than %zu options",
					    max - 1);
		/* -o FILE, -oFILE, --output[=FILE] */
		if (ctw_str_has_prefix(w, "-o") || ctw_str_has_prefix(w, "--output"))
			*has_output = true;
		argv[n++] = w;
	}
	argv[n] = NULL;
	return (int)n;
}

/* `ctrwatch trace WORDS... [-o statedir/trace.txt] PID`, detached; 0 once
 * attached.  what: the annotation(s), for errors. */
static int start_tracer(char **words, int n, bool has_output, const char *what, int dirfd,
			const char *statedir, pid_t init, struct ctw_err *err)
{
	char errpath[PATH_MAX], outpath[PATH_MAX], pidarg[16];
	snprintf(errpath, sizeof(errpath), "%s/trace.err", statedir);
	snprintf(outpath, sizeof(outpath), "%s/trace.txt", statedir);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)init);
	char *argv[TRACE_ARGS_MAX + 7];
	size_t k = 0;
	argv[k++] = "ctrwatch";
	argv[k++] = "trace";
	/* the container's process from its execve on: before it, the init
	 * runs ctrwatch-stub's last steps, which are ours, not the image's */
	argv[k++] = "--from-exec";
	for (int i = 0; i < n; i++)
		argv[k++] = words[i];
	if (!has_output) {
		argv[k++] = "-o";
		argv[k++] = outpath;
	}
	argv[k++] = pidarg;
	argv[k] = NULL;

	int efd = openat(dirfd, "trace.err", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (efd < 0)
		return ctw_err_set(err, errno, "%s", errpath);
	pid_t pid = fork();
	if (pid < 0) {
		close(efd);
		return ctw_err_set(err, errno, "fork the tracer");
	}
	if (pid == 0) {
		/* a session of its own, detached from create's stdio (the
		 * engine's pipes), not killed with create */
		setsid();
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		    dup2(efd, STDERR_FILENO) < 0)
			_exit(CTW_EXIT_NOTFOUND);
		/* none of create's other fds (an engine's, a lock's) lives on in
		 * a process that outlasts it */
		syscall(SYS_close_range, 3, ~0u, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv("/proc/self/exe", argv);
		dprintf(STDERR_FILENO, "ctrwatch: trace: exec: %s\n", strerror(errno));
		_exit(CTW_EXIT_NOTFOUND);
	}
	/* Attached when it says so; an exit before is its error. */
	int r = -ETIMEDOUT;
	for (int waited = 0; waited < TRACE_ATTACH_MS; waited += 10) {
		char buf[1024] = "";
		ssize_t len = pread(efd, buf, sizeof(buf) - 1, 0);
		if (len > 0 && strstr(buf, "trace: attached to ")) {
			r = 0;
			break;
		}
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			char *nl = len > 0 ? strchr(buf, '\n') : NULL;
			if (nl)
				*nl = '\0';
			r = ctw_err_setx(err, EINVAL, "annotation %s: %s", what,
					 len > 0 ? buf : "the tracer exited");
			pid = -1;
			break;
		}
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (r == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		r = ctw_err_setx(err, ETIMEDOUT, "annotation %s: not attached after %d s", what,
				 TRACE_ATTACH_MS / 1000);
	}
	close(efd);
	return r;
}

int oci_trace_start(const char *options, const char *record, int dirfd, const char *statedir,
		    pid_t init, struct ctw_err *err)
{
	char *opts = xstrdup(options ? options : "");
	char *words[TRACE_ARGS_MAX];
	bool has_output;
	int n = split_options(opts, words, ARRAY_SIZE(words) - 4, &has_output, err);
	const char *what = CTW_OCI_TRACE_ANNOTATION;
	if (n >= 0 && record) {
		/* The profile is written when the tracer ends, from wherever it
		 * runs: only an absolute path means the file the engine named. */
		what = options ? CTW_OCI_TRACE_ANNOTATION ", " CTW_OCI_RECORD_ANNOTATION
			       : CTW_OCI_RECORD_ANNOTATION;
		if (record[0] != '/')
			n = ctw_err_setx(err, EINVAL,
					 "annotation " CTW_OCI_RECORD_ANNOTATION
					 ": \"%s\" is not an absolute path",
					 record);
		else {
			words[n++] = "--seccomp-profile";
			words[n++] = (char *)record;
			if (!options) { /* recording only: no trace to keep */
				words[n++] = "-o";
				words[n++] = "/dev/null";
				has_output = true;
			}
			words[n] = NULL;
		}
	}
	int r = n < 0 ? n : start_tracer(words, n, has_output, what, dirfd, statedir, init, err);
	free(opts);
	return r;
}
