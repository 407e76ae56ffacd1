// SPDX-License-Identifier: Apache-2.0
/* The usage of runc's command line as ctrwatch implements it, and the
 * `ctrwatch oci` subcommand that leads to it. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../lib/lib.h"

void oci_usage_options(FILE *out, const struct ctw_opt *tab)
{
	ctw_opts_print_column(out, "Options", tab, true, OCI_HELP_COLUMN);
}

void oci_usage(FILE *out)
{
	fputs("Usage: ctrwatch-runc [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]\n"
	      "       ctrwatch oci [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]\n"
	      "\n"
	      "ctrwatch as an OCI runtime, with runc's command line: what containerd's runc\n"
	      "shim (io.containerd.runc.v2), conmon (Podman) and dockerd call.  A container is a\n"
	      "bundle (a directory with config.json and the root filesystem); its state lives\n"
	      "in the state root (--root), one directory per container id.\n"
	      "\n",
	      out);
	oci_print_commands(out);
	fputs("\n", out);
	ctw_opts_print_column(out, "Global options", oci_global_opts, false, OCI_HELP_COLUMN);
	fputs("\n"
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
	      "\n",
	      out);
	oci_usage_options(out, oci_create_opts);
	fputs("\n"
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
	      "\n",
	      out);
	oci_usage_options(out, oci_run_opts);
	fputs("\n"
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
	      "error when it is not created, running or paused.\n"
	      "\n",
	      out);
	oci_usage_options(out, oci_kill_opts);
}

void oci_usage_delete(FILE *out)
{
	fputs("Usage: ctrwatch-runc delete [-f|--force] ID...\n"
	      "\n"
	      "Remove each container: its cgroups and state, after its poststop hooks.  A\n"
	      "stopped or created container is removed; a running, paused or creating one\n"
	      "only with --force (its processes killed first).  With --force a container\n"
	      "that does not exist is no error, and what a killed create left is removed.\n"
	      "\n",
	      out);
	oci_usage_options(out, oci_delete_opts);
}

void oci_usage_list(FILE *out)
{
	fputs("Usage: ctrwatch-runc list [-f|--format table|json] [-q|--quiet]\n"
	      "\n"
	      "The containers of the state root: a table (ID PID STATUS BUNDLE CREATED\n"
	      "OWNER), their ids (--quiet), or a JSON array of their states.\n"
	      "\n",
	      out);
	oci_usage_options(out, oci_list_opts);
}

void oci_usage_ps(FILE *out)
{
	fputs("Usage: ctrwatch-runc ps [-f|--format table|json] ID [PS OPTIONS...]\n"
	      "\n"
	      "The processes of container ID (every one in its cgroup): as JSON, an array of\n"
	      "pids (what `docker top` reads); as a table, the host's ps with PS OPTIONS\n"
	      "(default -ef), its header and the container's lines only.\n"
	      "\n",
	      out);
	oci_usage_options(out, oci_ps_opts);
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
	      "\n",
	      out);
	oci_usage_options(out, oci_exec_opts);
	fputs("\n"
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
	      "\n",
	      out);
	oci_usage_options(out, oci_update_opts);
	fputs("\n"
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
	      "once, else every --interval (default 5s) until it stops or we are interrupted.\n"
	      "\n",
	      out);
	oci_usage_options(out, oci_events_opts);
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
	      "namespace.  An error when config.json exists.\n"
	      "\n",
	      out);
	oci_usage_options(out, oci_spec_opts);
}
