// SPDX-License-Identifier: Apache-2.0
/* The usage of runc's command line as ctrwatch implements it, and the
 * `ctrwatch oci` subcommand that leads to it. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../lib/lib.h"

void oci_usage(FILE *out)
{
	fputs("Usage: ctrwatch-runc [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]\n"
	      "       ctrwatch oci [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]\n"
	      "\n"
	      "ctrwatch as an OCI runtime, with runc's command line: what containerd's runc\n"
	      "shim (io.containerd.runc.v2), conmon (Podman) and dockerd call.  A container is a\n"
	      "bundle (a directory with config.json and the root filesystem); its state lives\n"
	      "in the state root (--root), one directory per container id.\n"
	      "\n"
	      "Commands:\n"
	      "  create     create a container from a bundle; its process waits for start\n"
	      "  start      run the process of a created container\n"
	      "  run        create and start, then wait for it (or --detach)\n"
	      "  state      print the OCI state of a container\n"
	      "  kill       send a signal to a container's process (or all of them)\n"
	      "  delete     remove a stopped (or created) container\n"
	      "  list       list the containers of the state root\n"
	      "  ps         the processes of a container\n"
	      "  exec       run a new process in a container\n"
	      "  pause      freeze every process of a container\n"
	      "  resume     thaw a paused container\n"
	      "  update     change the resources of a container\n"
	      "  events     a container's statistics (and OOM), once or every interval\n"
	      "  features   the OCI features document of this runtime\n"
	      "  spec       write a default config.json\n"
	      "\n"
	      "Global options:\n"
	      "  --root DIR            the state root (default: $CTRWATCH_STATE/oci, else\n"
	      "                        /run/ctrwatch/oci)\n"
	      "  --log FILE            log to FILE (errors are also printed on stderr)\n"
	      "  --log-format FORMAT   text (default) or json: {\"time\",\"level\",\"msg\"} lines\n"
	      "  --debug               log at debug level\n"
	      "  --systemd-cgroup      cgroupsPath in systemd's slice:prefix:name form (accepted;\n"
	      "                        that form is recognized without it too, and mapped onto\n"
	      "                        cgroupfs: ctrwatch creates the cgroups itself)\n"
	      "  --annotation KEY=VALUE\n"
	      "                        an annotation for every container create makes whose\n"
	      "                        config.json has no KEY (repeatable): a runtime handler\n"
	      "                        that traces all it runs, for engines that pass no\n"
	      "                        annotations (dockerd's runtimeArgs)\n"
	      "  --rootless VALUE, --criu PATH\n"
	      "                        accepted and ignored\n"
	      "  -h, --help            this text; COMMAND --help for a command's\n"
	      "  -v, --version         the version and the OCI spec version\n"
	      "\n"
	      "Annotation ctrwatch acts on (config.json's annotations):\n"
	      "  io.ctrwatch.trace=OPTIONS   trace the container's system calls in the kernel\n"
	      "                              from its first execve: create starts `ctrwatch\n"
	      "                              trace OPTIONS` on it (OPTIONS split at blanks, e.g.\n"
	      "                              \"-e trace=%file -o /var/log/c1.trace\"; without -o\n"
	      "                              into trace.txt in its state directory) and returns\n"
	      "                              once it is attached; it shows the process from its\n"
	      "                              execve on and ends with the container\n"
	      "\n"
	      "Selecting this command line: call ctrwatch by a name that ends in \"runc\" (the\n"
	      "ctrwatch-runc link `make install` makes), or `ctrwatch oci ...`, or give\n"
	      "ctrwatch one of the global options above but --root, or a command ctrwatch has\n"
	      "no other use for (create, start, state, delete, list, pause, resume, update,\n"
	      "events, features, spec).  `ctrwatch run|exec|kill|ps` stay ctrwatch's own.\n"
	      "Exit status: 0, or 1 with the error on stderr (exec and run: the process's).\n",
	      out);
}

void oci_usage_create(FILE *out)
{
	fputs("Usage: ctrwatch-runc create [OPTIONS] ID\n"
	      "\n"
	      "Create container ID from a bundle: cgroups, namespaces, the root filesystem,\n"
	      "mounts and devices as config.json says, the prestart, createRuntime and\n"
	      "createContainer hooks run; the process does not run until `start`.  The\n"
	      "container's init is left to whoever reaps our orphans (the caller's\n"
	      "subreaper: a shim, conmon).  Errors in config.json name the field\n"
	      "(\"config.json: linux.resources.memory.limit: not a number\"); nothing is left\n"
	      "behind when create fails.  An executable that is not found is a create error\n"
	      "('exec: \"X\": executable file not found in $PATH').\n"
	      "\n"
	      "Options:\n"
	      "  -b, --bundle DIR         the bundle (default: the current directory)\n"
	      "  --console-socket PATH    with process.terminal: send the pty's master there\n"
	      "                           (a unix socket; SCM_RIGHTS, runc's protocol)\n"
	      "  --pid-file FILE          write the init's pid to FILE\n"
	      "  --no-pivot               chroot instead of pivot_root (for a ramfs root)\n"
	      "  --no-new-keyring         accepted (ctrwatch creates no session keyring)\n"
	      "  --preserve-fds N         pass fds 3 .. 3+N-1 on to the process\n"
	      "\n"
	      "Example:\n"
	      "  ctrwatch-runc --root /run/ct create --bundle /srv/bundle --pid-file /run/c1.pid "
	      "c1\n",
	      out);
}

void oci_usage_start(FILE *out)
{
	fputs("Usage: ctrwatch-runc start ID\n"
	      "\n"
	      "Run the process of created container ID (its startContainer hooks first, in\n"
	      "the container), then its poststart hooks; returns once the process runs.  An\n"
	      "error when ID is not created.\n",
	      out);
}

void oci_usage_run(FILE *out)
{
	fputs("Usage: ctrwatch-runc run [OPTIONS] ID\n"
	      "\n"
	      "create and start.  In the foreground (the default) ctrwatch stays the\n"
	      "process's parent: signals are forwarded to it, a terminal (process.terminal\n"
	      "without --console-socket) is relayed on ours, its exit status is ours, and the\n"
	      "container is deleted when it exits.\n"
	      "\n"
	      "Options: create's, and\n"
	      "  -d, --detach             return once it runs (needs --console-socket for a\n"
	      "                           terminal)\n"
	      "  --keep, --no-subreaper   accepted\n"
	      "\n"
	      "Example:\n"
	      "  ctrwatch-runc run --bundle /srv/bundle c1; echo \"exit $?\"\n",
	      out);
}

void oci_usage_state(FILE *out)
{
	fputs("Usage: ctrwatch-runc state ID\n"
	      "\n"
	      "Print the OCI state of container ID: {\"ociVersion\", \"id\", \"status\"\n"
	      "(creating, created, running, paused, stopped), \"pid\" (while it has one),\n"
	      "\"bundle\", \"rootfs\", \"created\", \"owner\", \"annotations\"}.  An error when "
	      "ID\n"
	      "does not exist.\n",
	      out);
}

void oci_usage_kill(FILE *out)
{
	fputs("Usage: ctrwatch-runc kill [-a|--all] ID [SIGNAL]\n"
	      "\n"
	      "Send SIGNAL (a name, with or without SIG, or a number; default SIGTERM) to the\n"
	      "process of container ID, or with --all to every process in its cgroup.  An\n"
	      "error when it is not created, running or paused.\n",
	      out);
}

void oci_usage_delete(FILE *out)
{
	fputs("Usage: ctrwatch-runc delete [-f|--force] ID...\n"
	      "\n"
	      "Remove each container: its cgroups and state, after its poststop hooks.  A\n"
	      "stopped or created container is removed; a running, paused or creating one\n"
	      "only with --force (its processes killed first).  With --force a container\n"
	      "that does not exist is no error, and what a killed create left is removed.\n",
	      out);
}

void oci_usage_list(FILE *out)
{
	fputs("Usage: ctrwatch-runc list [-f|--format table|json] [-q|--quiet]\n"
	      "\n"
	      "The containers of the state root: a table (ID PID STATUS BUNDLE CREATED\n"
	      "OWNER), their ids (--quiet), or a JSON array of their states.\n",
	      out);
}

void oci_usage_ps(FILE *out)
{
	fputs("Usage: ctrwatch-runc ps [-f|--format table|json] ID [PS OPTIONS...]\n"
	      "\n"
	      "The processes of container ID (every one in its cgroup): as JSON, an array of\n"
	      "pids (what `docker top` reads); as a table, the host's ps with PS OPTIONS\n"
	      "(default -ef), its header and the container's lines only.\n",
	      out);
}

void oci_usage_exec(FILE *out)
{
	fputs("Usage: ctrwatch-runc exec [OPTIONS] ID [COMMAND [ARG...]]\n"
	      "\n"
	      "Run a new process in container ID (running or created): in its namespaces\n"
	      "and cgroups, with its seccomp filter.  The process is --process FILE (a JSON\n"
	      "process object, as config.json's), else the container's own process with\n"
	      "COMMAND as its args and these options applied.  In the foreground the exit\n"
	      "status is the process's (126 not executable, 127 not found, 255 when the\n"
	      "runtime failed).\n"
	      "\n"
	      "Options:\n"
	      "  -p, --process FILE        the process, whole\n"
	      "  -d, --detach              return once it runs\n"
	      "  --pid-file FILE           write its pid to FILE\n"
	      "  --console-socket PATH     send its terminal's master there (with --tty)\n"
	      "  -t, --tty                 a terminal for it\n"
	      "  --cwd DIR                 its working directory\n"
	      "  -e, --env K=V             add to its environment (repeatable)\n"
	      "  -u, --user UID[:GID]      run as UID (and GID)\n"
	      "  -g, --additional-gids G   supplementary groups, G1,G2\n"
	      "  -c, --cap CAP             add CAP (CAP_NET_ADMIN) to its sets\n"
	      "  --no-new-privs            set no_new_privs\n"
	      "  --apparmor PROFILE, --process-label LABEL\n"
	      "                            its AppArmor profile, SELinux label\n"
	      "  --preserve-fds N          pass fds 3 .. 3+N-1 on to it\n"
	      "\n"
	      "Example:\n"
	      "  ctrwatch-runc exec -t --console-socket /run/c1.sock c1 sh\n",
	      out);
}

void oci_usage_pause(FILE *out)
{
	fputs("Usage: ctrwatch-runc pause ID\n"
	      "\n"
	      "Freeze every process of running container ID (cgroup v2's freezer, which\n"
	      "hybrid hosts' v2 tree has too); its status becomes paused.\n",
	      out);
}

void oci_usage_resume(FILE *out)
{
	fputs("Usage: ctrwatch-runc resume ID\n"
	      "\n"
	      "Thaw paused container ID.\n",
	      out);
}

void oci_usage_update(FILE *out)
{
	fputs("Usage: ctrwatch-runc update [OPTIONS] ID\n"
	      "\n"
	      "Change the resources of container ID: --resources FILE (or - for stdin) holds\n"
	      "a linux.resources object of config.json; the options below win over it.  Only\n"
	      "what is given is written (cgroup v2 files on unified hosts, the v1\n"
	      "controllers' on hybrid ones).\n"
	      "\n"
	      "Options:\n"
	      "  -r, --resources FILE|-             the resources as JSON\n"
	      "  --memory BYTES                     memory limit (512m, 1g; -1: none)\n"
	      "  --memory-swap BYTES                memory + swap limit (-1: none)\n"
	      "  --memory-reservation BYTES         soft limit\n"
	      "  --cpu-quota USECS, --cpu-period USECS, --cpu-burst USECS\n"
	      "  --cpu-rt-period USECS, --cpu-rt-runtime USECS\n"
	      "  --cpu-share SHARES                 relative weight\n"
	      "  --cpuset-cpus LIST, --cpuset-mems LIST\n"
	      "  --pids-limit N                     at most N processes (-1: none)\n"
	      "  --blkio-weight N                   10 to 1000\n"
	      "  --kernel-memory, --kernel-memory-tcp  accepted, obsolete, ignored\n"
	      "\n"
	      "Example:\n"
	      "  echo '{\"memory\": {\"limit\": 67108864}}' | ctrwatch-runc update -r - c1\n",
	      out);
}

void oci_usage_events(FILE *out)
{
	fputs("Usage: ctrwatch-runc events [--stats] [--interval DURATION] ID\n"
	      "\n"
	      "Print container ID's statistics as runc does, one JSON line each:\n"
	      "{\"type\": \"stats\", \"id\", \"data\": {\"cpu\", \"memory\", \"pids\"}}; with "
	      "--stats\n"
	      "once, else every --interval (default 5s) until it stops or we are interrupted.\n",
	      out);
}

void oci_usage_features(FILE *out)
{
	fputs("Usage: ctrwatch-runc features\n"
	      "\n"
	      "Print the OCI features document: the spec versions, hooks, mount options,\n"
	      "namespaces, capabilities, cgroup, seccomp and LSM support ctrwatch implements.\n",
	      out);
}

void oci_usage_spec(FILE *out)
{
	fputs("Usage: ctrwatch-runc spec [-b|--bundle DIR] [--rootless]\n"
	      "\n"
	      "Write a default config.json into DIR (default: the current directory): `sh`\n"
	      "on a terminal, rootfs \"rootfs\" read-only, runc's default mounts, masks and\n"
	      "capabilities, new pid, network, ipc, uts, mount and cgroup namespaces.  With\n"
	      "--rootless a user namespace maps root to you and there is no network\n"
	      "namespace.  An error when config.json exists.\n",
	      out);
}
