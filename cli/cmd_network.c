// SPDX-License-Identifier: Apache-2.0
/*
 * ctrwatch network: inspect the container network (bridge, subnet, leases),
 * release what dead containers left, and the attach/detach plumbing that
 * wires an existing process's network namespace (what `run` does itself).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include <jansson.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"
#include "../network/network.h"

static const struct ctw_opt inspect_opts[] = {
	{.name = "json", .kind = CTW_OPT_FLAG, .help = "one JSON object", .off = 0},
	{0},
};

struct attach_args {
	struct ctw_net_publish pub[CTW_NET_MAX_PUBLISH];
	size_t npub;
	const char *dns[17]; /* NULL-terminated */
	size_t ndns;
	struct ctw_net_opts o;
};

static int add_publish(const char *arg, void *field, char *why, size_t whylen)
{
	struct attach_args *a = field;
	struct ctw_err err = {0};

	if (a->npub == CTW_NET_MAX_PUBLISH) {
		snprintf(why, whylen, "too many (%d at most)", CTW_NET_MAX_PUBLISH);
		return -1;
	}
	if (ctw_net_parse_publish(arg, &a->pub[a->npub], &err) < 0) {
		snprintf(why, whylen, "%s", err.msg);
		return -1;
	}
	a->npub++;
	return 0;
}

static int add_dns(const char *arg, void *field, char *why, size_t whylen)
{
	struct attach_args *a = field;

	if (a->ndns == ARRAY_SIZE(a->dns) - 1) {
		snprintf(why, whylen, "too many (%zu at most)", ARRAY_SIZE(a->dns) - 1);
		return -1;
	}
	a->dns[a->ndns++] = arg;
	return 0;
}

#define ARG(f) offsetof(struct attach_args, f)
static const struct ctw_opt attach_opts[] = {
	{.name = "publish",
	 .short_name = 'p',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "SPEC",
	 .help = "[HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp], repeatable",
	 .off = 0,
	 .parse = add_publish},
	{.name = "dns",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "IP",
	 .help = "nameserver for resolv.conf, repeatable",
	 .off = 0,
	 .parse = add_dns},
	{.name = "name",
	 .kind = CTW_OPT_STR,
	 .metavar = "NAME",
	 .help = "name for the hosts file",
	 .off = ARG(o.name)},
	{.name = "files-dir",
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "write resolv.conf, hosts, hostname there",
	 .off = ARG(o.files_dir)},
	{.name = "subnet",
	 .kind = CTW_OPT_STR,
	 .metavar = "CIDR",
	 .help = "subnet to use when no container holds one",
	 .off = ARG(o.subnet)},
	{0},
};
#undef ARG

static void network_usage(FILE *out)
{
	fputs("Usage: ctrwatch network inspect [--json]\n"
	      "       ctrwatch network gc\n"
	      "       ctrwatch network attach [OPTIONS] ID PID\n"
	      "       ctrwatch network detach ID\n"
	      "\n"
	      "The bridge network of `ctrwatch run --net bridge` (the default): a bridge\n"
	      "(ctrwatch0), a subnet (172.30.0.0/16 unless configured), one address per\n"
	      "container from a file-locked pool, masquerade and published ports in the\n"
	      "nftables table `ip ctrwatch`, which exists only while containers do.\n"
	      "\n"
	      "Commands:\n"
	      "  inspect   show the bridge, subnet, gateway, MTU and every lease\n"
	      "  gc        release the leases, veths and rules of containers that are gone\n"
	      "  attach    give the network namespace of process PID an address on the\n"
	      "            bridge, as container ID (plumbing: `run` does this itself)\n"
	      "  detach    undo attach (or a run's setup) for container ID\n"
	      "\n",
	      out);
	ctw_opts_print_section(out, "Options of inspect", inspect_opts, false);
	fputs("\n", out);
	ctw_opts_print_section(out, "Options of attach", attach_opts, false);
	fputs("\n"
	      "Configuration (later wins): defaults; the file $CTRWATCH_NET_CONFIG\n"
	      "(default /etc/ctrwatch/network.conf) with `bridge = NAME`, `subnet = CIDR`,\n"
	      "`mtu = N` lines; the environment CTRWATCH_BRIDGE, CTRWATCH_SUBNET,\n"
	      "CTRWATCH_MTU; --subnet.  The MTU defaults to that of the host's default\n"
	      "route interface.  The subnet can change only while no container has a lease.\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch network inspect\n"
	      "  ctrwatch network inspect --json | jq -r '.leases[].ip'\n"
	      "  CTRWATCH_SUBNET=10.123.0.0/24 ctrwatch run busybox ip addr\n"
	      "  unshare -n sleep 60 & ctrwatch network attach -p 8080:80 test1 $!\n",
	      out);
}

static int print_inspect(bool json)
{
	struct ctw_net_status st;
	struct ctw_err err = {0};
	char net[16], spec[96];

	if (ctw_net_status_get(&st, &err) < 0) {
		pr_err("network inspect: %s", err.msg);
		return CTW_EXIT_FAIL;
	}
	snprintf(net, sizeof(net), "%u.%u.%u.%u", st.cfg.subnet >> 24, (st.cfg.subnet >> 16) & 0xff,
		 (st.cfg.subnet >> 8) & 0xff, st.cfg.subnet & 0xff);
	if (json) {
		json_t *o = json_object(), *arr = json_array();
		json_object_set_new(o, "bridge", json_string(st.cfg.bridge));
		json_object_set_new(o, "subnet", json_sprintf("%s/%d", net, st.cfg.prefix_len));
		json_object_set_new(o, "gateway", json_string(st.gateway));
		json_object_set_new(o, "mtu", json_integer(st.cfg.mtu));
		json_object_set_new(o, "source", json_string(st.cfg.source));
		json_object_set_new(o, "bridge_present", json_boolean(st.bridge_present));
		json_object_set_new(o, "nft_table", json_boolean(st.table_present));
		json_object_set_new(o, "ip_forward", json_integer(st.ip_forward));
		json_object_set_new(o, "other_netns_leases",
				    json_integer((json_int_t)st.other_leases));
		for (size_t i = 0; i < st.nleases; i++) {
			const struct ctw_net_lease_info *l = &st.leases[i];
			json_t *lo = json_object(), *ports = json_array();
			json_object_set_new(lo, "container", json_string(l->container_id));
			json_object_set_new(lo, "ip", json_string(l->ip));
			json_object_set_new(lo, "veth", json_string(l->host_veth));
			json_object_set_new(lo, "pid", json_integer(l->pid));
			json_object_set_new(lo, "alive", json_boolean(l->alive));
			for (size_t j = 0; j < l->npublish; j++) {
				ctw_net_format_publish(&l->publish[j], spec, sizeof(spec));
				json_array_append_new(ports, json_string(spec));
			}
			json_object_set_new(lo, "publish", ports);
			json_array_append_new(arr, lo);
		}
		json_object_set_new(o, "leases", arr);
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	} else {
		printf("bridge:     %s (%s)\n", st.cfg.bridge,
		       st.bridge_present ? "present" : "absent");
		printf("subnet:     %s/%d (%s)\n", net, st.cfg.prefix_len, st.cfg.source);
		printf("gateway:    %s\n", st.gateway);
		if (st.cfg.mtu)
			printf("mtu:        %u\n", st.cfg.mtu);
		else
			printf("mtu:        host's\n");
		printf("nftables:   table ip %s %s\n", CTW_NET_TABLE,
		       st.table_present ? "present" : "absent");
		printf("ip_forward: %d\n", st.ip_forward);
		if (st.other_leases)
			printf("elsewhere:  %zu lease(s) held in other network namespaces\n",
			       st.other_leases);
		printf("leases:     %zu\n", st.nleases);
		if (st.nleases)
			printf("%-15s  %-13s  %-8s  %-5s  %s\n", "IP", "VETH", "PID", "ALIVE",
			       "CONTAINER  PUBLISH");
		for (size_t i = 0; i < st.nleases; i++) {
			const struct ctw_net_lease_info *l = &st.leases[i];
			printf("%-15s  %-13s  %-8d  %-5s  %s", l->ip, l->host_veth, (int)l->pid,
			       l->alive ? "yes" : "no", l->container_id);
			for (size_t j = 0; j < l->npublish; j++) {
				ctw_net_format_publish(&l->publish[j], spec, sizeof(spec));
				printf("%s%s", j ? "," : "  ", spec);
			}
			putchar('\n');
		}
	}
	ctw_net_status_fini(&st);
	return CTW_EXIT_OK;
}

static int do_attach(int argc, char **argv)
{
	struct attach_args a = {.o = {.mode = CTW_NET_BRIDGE}};
	struct ctw_err err = {0};
	struct ctw_net_lease lease;
	uint64_t pid;
	int first = ctw_opts_parse("network", attach_opts, argc, argv, &a);

	if (first < 0)
		return -first;
	struct ctw_net_opts o = a.o;
	if (argc - first != 2)
		return ctw_cmd_usage_error("network", "network attach: expected ID PID");
	if (ctw_parse_u64(argv[first + 1], 1, 0x7fffffff, &pid) < 0)
		return ctw_cmd_usage_error("network", "network attach: bad pid `%s`",
					   argv[first + 1]);
	o.container_id = argv[first];
	o.publish = a.pub;
	o.npublish = a.npub;
	o.dns = a.ndns ? a.dns : NULL;
	if (ctw_net_setup(&o, (pid_t)pid, &lease, &err) < 0) {
		pr_err("%s", err.msg);
		return CTW_EXIT_FAIL;
	}
	printf("%s/%d %s %s\n", lease.ip, lease.prefix_len, lease.gateway, lease.host_veth);
	return CTW_EXIT_OK;
}

static int cmd_network(int argc, char **argv)
{
	struct ctw_err err = {0};

	if (argc < 2)
		return ctw_cmd_usage_error("network", "network: missing command");
	const char *sub = argv[1];
	if (!strcmp(sub, "inspect")) {
		bool json = false;
		int rc = ctw_opts_parse_only("network", inspect_opts, argc - 1, argv + 1, &json);
		return rc >= 0 ? rc : print_inspect(json);
	}
	if (!strcmp(sub, "gc")) {
		unsigned n;
		if (argc != 2)
			return ctw_cmd_usage_error("network", "network gc: no arguments expected");
		if (ctw_net_gc(&n, &err) < 0) {
			pr_err("%s", err.msg);
			return CTW_EXIT_FAIL;
		}
		printf("released %u lease%s\n", n, n == 1 ? "" : "s");
		return CTW_EXIT_OK;
	}
	if (!strcmp(sub, "attach"))
		return do_attach(argc - 1, argv + 1);
	if (!strcmp(sub, "detach")) {
		if (argc != 3)
			return ctw_cmd_usage_error("network", "network detach: expected ID");
		if (ctw_net_teardown(argv[2], &err) < 0) {
			pr_err("%s", err.msg);
			return CTW_EXIT_FAIL;
		}
		return CTW_EXIT_OK;
	}
	return ctw_cmd_usage_error("network", "network: unknown command `%s`", sub);
}

CTW_COMMAND(network, .name = "network", .summary = "inspect the container bridge network",
	    .order = CTW_ORDER_RUNTIME + 60, .fn = cmd_network, .usage = network_usage)
