// SPDX-License-Identifier: Apache-2.0
/*
 * ctrwatch probe: what this kernel and host offer the agent.  Every answer
 * comes from trying the thing (loading a program, attaching it), not from a
 * version number: kernels backport and distributions disable.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "options.h"
#include "../exporters/exporters.h"
#include "../lib/lib.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

struct probe_result {
	const char *key;   /* JSON key */
	const char *label; /* table label */
	bool ok;
	bool required; /* the agent cannot run without it */
	char detail[160];
};

static bool fs_is(const char *path, long magic)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && (long)sf.f_type == magic;
}

/* "r0 = 0; exit": the smallest program every type accepts. */
static const struct bpf_insn ret0[] = {
	{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	{.code = BPF_JMP | BPF_EXIT},
};

/* Load a BTF-typed tracing program of `attach` kind for `target` and try to
 * attach it.  Returns 0 or -errno of the first step that failed. */
static int try_tracing(struct btf *vmlinux, const char *target, __u32 kind,
		       enum bpf_attach_type attach, char *why, size_t whylen)
{
	int id = btf__find_by_name_kind(vmlinux, target, kind);
	if (id < 0) {
		snprintf(why, whylen, "%s not in BTF", target);
		return -ENOENT;
	}
	struct bpf_prog_load_opts opts = {
		.sz = sizeof(opts),
		.expected_attach_type = attach,
		.attach_btf_id = (__u32)id,
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ctw_probe", "GPL", ret0, ARRAY_SIZE(ret0),
			       &opts);
	if (fd < 0) {
		int e = errno;
		snprintf(why, whylen, "load: %s", strerror(e));
		return -e;
	}
	int lfd = bpf_link_create(fd, 0, attach, NULL);
	int e = errno;
	close(fd);
	if (lfd < 0) {
		snprintf(why, whylen, "attach: %s", strerror(e));
		return -e;
	}
	close(lfd);
	return 0;
}

/* The cgroup v2 mount and the layout around it. */
static const char *cgroup_layout(const char **v2)
{
	if (fs_is("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC)) {
		*v2 = "/sys/fs/cgroup";
		return "unified";
	}
	if (fs_is("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC)) {
		*v2 = "/sys/fs/cgroup/unified";
		return "hybrid";
	}
	*v2 = NULL;
	return fs_is("/sys/fs/cgroup", TMPFS_MAGIC) ? "legacy" : "none";
}

/* This process's own cgroup v2 directory, from /proc/self/cgroup's "0::". */
static int own_cgroup2_dir(const char *mnt, char *buf, size_t size)
{
	char *txt;
	if (ctw_read_file("/proc/self/cgroup", &txt, NULL))
		return -errno;
	int r = -ENOENT;
	for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "0::", 3)) {
			const char *rel = line + 3;
			snprintf(buf, size, "%s%s", mnt, strcmp(rel, "/") ? rel : "");
			r = 0;
			break;
		}
	}
	free(txt);
	return r;
}

/* Attach a cgroup_skb program to a cgroup made for the purpose below our own
 * (never to a cgroup we did not create), then remove both. */
static int try_cgroup_skb(const char *v2, char *why, size_t whylen)
{
	char own[PATH_MAX], dir[PATH_MAX + 64];
	if (!v2) {
		snprintf(why, whylen, "no cgroup v2 mount");
		return -ENOENT;
	}
	if (own_cgroup2_dir(v2, own, sizeof(own))) {
		snprintf(why, whylen, "own cgroup unknown");
		return -ENOENT;
	}
	snprintf(dir, sizeof(dir), "%s/ctrwatch-probe-%d", own, (int)getpid());
	if (mkdir(dir, 0755) < 0) {
		int e = errno;
		snprintf(why, whylen, "mkdir %s: %s", dir, strerror(e));
		return -e;
	}
	int r = 0;
	int cfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int pfd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, "ctw_probe", "GPL", ret0,
				ARRAY_SIZE(ret0), NULL);
	if (cfd < 0 || pfd < 0) {
		r = -errno;
		snprintf(why, whylen, "load: %s", strerror(-r));
	} else if (bpf_prog_attach(pfd, cfd, BPF_CGROUP_INET_EGRESS, BPF_F_ALLOW_MULTI) < 0) {
		r = -errno;
		snprintf(why, whylen, "attach: %s", strerror(-r));
	} else {
		bpf_prog_detach2(pfd, cfd, BPF_CGROUP_INET_EGRESS);
		snprintf(why, whylen, "egress/ingress, multi-attach");
	}
	if (pfd >= 0)
		close(pfd);
	if (cfd >= 0)
		close(cfd);
	rmdir(dir);
	return r;
}

static const struct ctw_opt probe_opts[] = {
	{.name = "json",
	 .kind = CTW_OPT_FLAG,
	 .help = "one JSON object: {\"features\": {KEY: {\"ok\", \"required\",\n"
		 "\"detail\"}}, \"cgroup_layout\", \"cgroup2_mount\", \"kernel\",\n"
		 "\"ready\"}",
	 .off = 0},
	{0},
};

static void usage(FILE *out)
{
	fputs("Usage: ctrwatch probe [--json]\n"
	      "\n"
	      "Report what this kernel and host offer ctrwatch: kernel BTF, BTF tracepoints\n"
	      "(tp_btf), fentry, the BPF ring buffer, cgroup BPF, XDP, the cgroup layout\n"
	      "(unified, hybrid or legacy) and where cgroup v2 is mounted, whether bpffs and\n"
	      "tracefs are mounted, and whether kprobes exist.  Each feature is tried for real:\n"
	      "a program is loaded and, where it needs no interface, attached and detached.\n"
	      "\n"
	      "Exits 0 when everything the agent needs is there, 1 otherwise (the missing\n"
	      "items are marked 'required').  Needs root (CAP_BPF and CAP_SYS_ADMIN).\n"
	      "\n",
	      out);
	ctw_opts_print(out, probe_opts);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch probe\n"
	      "  ctrwatch probe --json | jq -r .cgroup_layout\n",
	      out);
}

static int cmd_probe(int argc, char **argv)
{
	bool json = false;
	int rc = ctw_opts_parse_only("probe", probe_opts, argc, argv, &json);
	if (rc >= 0)
		return rc;
	/* Without them every load fails: "not supported" would be a lie. */
	if (!ctw_cmd_privileged("probe", CTW_NEED_BPF | CTW_NEED_PERFMON | CTW_NEED_NET_ADMIN))
		return CTW_EXIT_FAIL;

	struct probe_result res[] = {
		{"btf", "kernel BTF (/sys/kernel/btf/vmlinux)", false, true, ""},
		{"tp_btf", "BTF tracepoints (tp_btf)", false, true, ""},
		{"fentry", "fentry/fexit", false, false, ""},
		{"kprobes", "kprobes", false, false, ""},
		{"ringbuf", "BPF ring buffer", false, true, ""},
		{"cgroup_bpf", "cgroup BPF (cgroup_skb)", false, true, ""},
		{"xdp", "XDP programs", false, false, ""},
		{"cgroup2", "cgroup v2 mounted", false, true, ""},
		{"bpffs", "bpffs at /sys/fs/bpf", false, false, ""},
		{"tracefs", "tracefs at /sys/kernel/tracing", false, false, ""},
	};
	enum { BTF, TP_BTF, FENTRY, KPROBES, RINGBUF, CGROUP_BPF, XDP, CGROUP2, BPFFS, TRACEFS };

	struct btf *vmlinux = NULL;
	if (ctw_path_exists("/sys/kernel/btf/vmlinux")) {
		vmlinux = btf__load_vmlinux_btf();
		res[BTF].ok = vmlinux != NULL;
		snprintf(res[BTF].detail, sizeof(res[BTF].detail), "%s",
			 vmlinux ? "CO-RE relocations possible" : "cannot parse");
	} else {
		snprintf(res[BTF].detail, sizeof(res[BTF].detail), "missing: CO-RE impossible");
	}
	if (vmlinux) {
		int r = try_tracing(vmlinux, "btf_trace_sys_enter", BTF_KIND_TYPEDEF,
				    BPF_TRACE_RAW_TP, res[TP_BTF].detail,
				    sizeof(res[TP_BTF].detail));
		res[TP_BTF].ok = r == 0;
		if (!r)
			snprintf(res[TP_BTF].detail, sizeof(res[TP_BTF].detail),
				 "sys_enter attached");
		r = try_tracing(vmlinux, "do_nanosleep", BTF_KIND_FUNC, BPF_TRACE_FENTRY,
				res[FENTRY].detail, sizeof(res[FENTRY].detail));
		res[FENTRY].ok = r == 0;
		if (!r)
			snprintf(res[FENTRY].detail, sizeof(res[FENTRY].detail),
				 "do_nanosleep attached");
	} else {
		snprintf(res[TP_BTF].detail, sizeof(res[TP_BTF].detail), "needs BTF");
		snprintf(res[FENTRY].detail, sizeof(res[FENTRY].detail), "needs BTF");
	}

	res[KPROBES].ok = ctw_path_exists("/sys/bus/event_source/devices/kprobe/type");
	snprintf(res[KPROBES].detail, sizeof(res[KPROBES].detail), "%s",
		 res[KPROBES].ok ? "kprobe PMU present" : "no kprobe PMU: kprobes unavailable");

	res[RINGBUF].ok = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
	snprintf(res[RINGBUF].detail, sizeof(res[RINGBUF].detail), "%s",
		 res[RINGBUF].ok ? "map created" : "not supported");

	const char *v2 = NULL;
	const char *layout = cgroup_layout(&v2);
	res[CGROUP2].ok = v2 != NULL;
	snprintf(res[CGROUP2].detail, sizeof(res[CGROUP2].detail), "%s%s%s", layout,
		 v2 ? " at " : "", v2 ? v2 : "");

	int r = try_cgroup_skb(v2, res[CGROUP_BPF].detail, sizeof(res[CGROUP_BPF].detail));
	res[CGROUP_BPF].ok = r == 0;

	res[XDP].ok = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) == 1;
	snprintf(res[XDP].detail, sizeof(res[XDP].detail), "%s",
		 res[XDP].ok ? "program type loads (attach needs an interface)" : "not supported");

	res[BPFFS].ok = fs_is("/sys/fs/bpf", BPF_FS_MAGIC);
	snprintf(res[BPFFS].detail, sizeof(res[BPFFS].detail), "%s",
		 res[BPFFS].ok ? "mounted" : "not mounted (the agent mounts it)");
	res[TRACEFS].ok = fs_is("/sys/kernel/tracing", TRACEFS_MAGIC);
	snprintf(res[TRACEFS].detail, sizeof(res[TRACEFS].detail), "%s",
		 res[TRACEFS].ok ? "mounted" : "not mounted (not needed: tp_btf)");

	btf__free(vmlinux);

	bool ready = true;
	for (size_t i = 0; i < ARRAY_SIZE(res); i++)
		if (res[i].required && !res[i].ok)
			ready = false;

	struct utsname u;
	uname(&u);
	if (json) {
		printf("{\"kernel\":");
		ctw_json_string(stdout, u.release);
		printf(",\"cgroup_layout\":\"%s\",\"cgroup2_mount\":", layout);
		if (v2)
			ctw_json_string(stdout, v2);
		else
			fputs("null", stdout);
		printf(",\"ready\":%s,\"features\":{", ready ? "true" : "false");
		for (size_t i = 0; i < ARRAY_SIZE(res); i++) {
			printf("%s\"%s\":{\"ok\":%s,\"required\":%s,\"detail\":", i ? "," : "",
			       res[i].key, res[i].ok ? "true" : "false",
			       res[i].required ? "true" : "false");
			ctw_json_string(stdout, res[i].detail);
			putchar('}');
		}
		puts("}}");
	} else {
		printf("kernel %s, cgroups %s%s%s\n\n", u.release, layout, v2 ? ", v2 at " : "",
		       v2 ? v2 : "");
		printf("%-38s %-4s %s\n", "FEATURE", "OK", "DETAIL");
		for (size_t i = 0; i < ARRAY_SIZE(res); i++)
			printf("%-38s %-4s %s%s\n", res[i].label, res[i].ok ? "yes" : "no",
			       res[i].detail, !res[i].ok && res[i].required ? " [required]" : "");
		printf("\n%s\n", ready ? "ready: the agent can run here"
				       : "not ready: a required feature is missing");
	}
	return ready ? CTW_EXIT_OK : CTW_EXIT_FAIL;
}

CTW_COMMAND(probe, .name = "probe", .summary = "report what this kernel and host offer ctrwatch",
	    .order = CTW_ORDER_MISC + 10, .fn = cmd_probe, .usage = usage)
