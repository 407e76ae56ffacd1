// SPDX-License-Identifier: Apache-2.0
/*
 * Loader for the tc contender of tests/bench/xdp-bench.sh.
 *   xdp-tcdrop attach OBJ IFNAME CIDR_FILE PIN   load, fill the trie, attach
 *                                                 (clsact ingress), pin the
 *                                                 drop counter at PIN
 *   xdp-tcdrop count PIN                          print packets dropped
 *   xdp-tcdrop detach IFNAME                      remove the clsact qdisc
 * A netlink tc attachment outlives this process; `detach` removes it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int do_attach(const char *obj_path, const char *ifname, const char *cidrs, const char *pin)
{
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	unsigned int ifindex = if_nametoindex(ifname);
	char line[128];
	int n = 0;

	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "xdp-tcdrop: load %s failed\n", obj_path);
		return 1;
	}
	int lpm = bpf_object__find_map_fd_by_name(obj, "deny");
	FILE *f = fopen(cidrs, "r");
	if (!f || !ifindex) {
		fprintf(stderr, "xdp-tcdrop: %s / %s: %s\n", cidrs, ifname, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct {
			uint32_t plen;
			uint8_t a[4];
		} k = {.plen = 32, .a = {0}};
		uint32_t v = 1;
		char *slash = strchr(line, '/');
		if (slash) {
			k.plen = (uint32_t)atoi(slash + 1);
			*slash = '\0';
		}
		line[strcspn(line, "\n")] = '\0';
		if (inet_pton(AF_INET, line, k.a) != 1)
			continue;
		if (bpf_map_update_elem(lpm, &k, &v, BPF_ANY) == 0)
			n++;
	}
	fclose(f);
	struct bpf_map *drops = bpf_object__find_map_by_name(obj, "drops");
	if (bpf_map__pin(drops, pin)) {
		fprintf(stderr, "xdp-tcdrop: pin %s failed\n", pin);
		return 1;
	}
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts,
		    .prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "tcdrop")));
	int r = bpf_tc_hook_create(&hook);
	if (r && r != -EEXIST) {
		fprintf(stderr, "xdp-tcdrop: clsact: %s\n", strerror(-r));
		return 1;
	}
	if ((r = bpf_tc_attach(&hook, &opts))) {
		fprintf(stderr, "xdp-tcdrop: attach: %s\n", strerror(-r));
		return 1;
	}
	printf("%d prefixes\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "attach"))
		return do_attach(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 3 && !strcmp(argv[1], "count")) {
		int fd = bpf_obj_get(argv[2]);
		int ncpu = libbpf_num_possible_cpus();
		uint64_t v[ncpu > 0 ? ncpu : 1], sum = 0;
		uint32_t zero = 0;
		if (fd < 0 || bpf_map_lookup_elem(fd, &zero, v)) {
			printf("0\n");
			return 1;
		}
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
		printf("%llu\n", (unsigned long long)sum);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "detach")) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)if_nametoindex(argv[2]),
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
		return bpf_tc_hook_destroy(&hook) ? 1 : 0;
	}
	fprintf(stderr,
		"usage: xdp-tcdrop attach OBJ IFNAME CIDR_FILE PIN | count PIN | detach IFNAME\n");
	return 2;
}
