// SPDX-License-Identifier: Apache-2.0
/* Loads and attaches syscall-floor.bpf.o, says "attached", and keeps it
 * attached until SIGINT/SIGTERM; then prints how many syscalls it counted.
 *   syscall-floor FLOOR.bpf.o
 *   syscall-floor --stats   turn on the kernel's BPF run-time statistics
 *                           (BPF_ENABLE_STATS: run_time_ns, run_cnt of every
 *                           program) until SIGINT/SIGTERM; says "stats on" */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t done;

static void on_signal(int sig)
{
	done = 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link;
	unsigned long long total = 0, vals[1024] = {0};
	unsigned key = 0;
	int ncpu = libbpf_num_possible_cpus();

	if (argc != 2 || ncpu <= 0 || ncpu > 1024)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!strcmp(argv[1], "--stats")) {
		/* reference-counted by the kernel: on while this fd is open,
		 * whatever others do with the sysctl */
		int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

		if (fd < 0) {
			fprintf(stderr, "syscall-floor: BPF_ENABLE_STATS: %s\n", strerror(-fd));
			return 1;
		}
		printf("stats on\n");
		fflush(stdout);
		while (!done)
			pause();
		close(fd);
		return 0;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "syscall-floor: cannot load %s\n", argv[1]);
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "floor_enter");
	link = prog ? bpf_program__attach(prog) : NULL;
	if (!link) {
		fprintf(stderr, "syscall-floor: cannot attach\n");
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	while (!done)
		pause();
	bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "floor_count"), &key, vals);
	for (int i = 0; i < ncpu; i++)
		total += vals[i];
	printf("counted %llu\n", total);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
