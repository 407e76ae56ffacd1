// SPDX-License-Identifier: Apache-2.0
/* Unit tests for network/: parsers, configuration, IPAM (including
 * concurrent allocation across processes), the nftables rule set and the
 * container's resolv.conf / hosts.  No root needed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "../../lib/lib.h"
#include "../../network/internal.h"

static void test_parse_publish(void **state)
{
	struct ctw_net_publish p;
	struct ctw_err err = {0};
	char buf[96];

	assert_int_equal(ctw_net_parse_publish("8080:80", &p, &err), 0);
	assert_int_equal(p.host_port, 8080);
	assert_int_equal(p.ctr_port, 80);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_string_equal(p.host_ip, "");

	assert_int_equal(ctw_net_parse_publish("127.0.0.1:19700:53/udp", &p, &err), 0);
	assert_string_equal(p.host_ip, "127.0.0.1");
	assert_int_equal(p.proto, IPPROTO_UDP);
	ctw_net_format_publish(&p, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:19700:53/udp");

	assert_int_equal(ctw_net_parse_publish("0.0.0.0:1:65535/tcp", &p, &err), 0);
	assert_string_equal(p.host_ip, "");
	ctw_net_format_publish(&p, buf, sizeof(buf));
	assert_string_equal(buf, "1:65535/tcp");

	assert_int_equal(ctw_net_parse_publish(":8080:80", &p, &err), 0);
	assert_string_equal(p.host_ip, "");

	const char *bad[] = {"80",   "0:80",	    "80:0",	   "70000:80",	  "a:80",
			     "80:b", "1.2.3:80:80", "80:80/sctp",  "[::1]:80:80", "80:80/",
			     "",     ":",	    "1.2.3.4::80", "x:1:2:3"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ctw_err_clear(&err);
		assert_int_equal(ctw_net_parse_publish(bad[i], &p, &err), -EINVAL);
		assert_true(strstr(err.msg, "publish") != NULL);
	}
}

static void test_parse_mode(void **state)
{
	enum ctw_net_mode m;
	const char *t;
	assert_int_equal(ctw_net_parse_mode("bridge", &m, &t), 0);
	assert_int_equal(m, CTW_NET_BRIDGE);
	assert_null(t);
	assert_int_equal(ctw_net_parse_mode("none", &m, &t), 0);
	assert_int_equal(m, CTW_NET_NONE);
	assert_int_equal(ctw_net_parse_mode("host", &m, &t), 0);
	assert_int_equal(m, CTW_NET_HOST);
	assert_int_equal(ctw_net_parse_mode("container:web1", &m, &t), 0);
	assert_int_equal(m, CTW_NET_CONTAINER);
	assert_string_equal(t, "web1");
	assert_int_equal(ctw_net_parse_mode("container:", &m, &t), -EINVAL);
	assert_int_equal(ctw_net_parse_mode("bridged", &m, &t), -EINVAL);
	assert_int_equal(ctw_net_parse_mode(NULL, &m, &t), -EINVAL);

	setenv("CTRWATCH_NET", "none", 1);
	assert_int_equal(ctw_net_default_mode(), CTW_NET_NONE);
	setenv("CTRWATCH_NET", "bridge", 1);
	assert_int_equal(ctw_net_default_mode(), CTW_NET_BRIDGE);
	setenv("CTRWATCH_NET", "container:x", 1);
	assert_int_equal(ctw_net_default_mode(), CTW_NET_BUILTIN_DEFAULT);
	unsetenv("CTRWATCH_NET");
	assert_int_equal(ctw_net_default_mode(), CTW_NET_BUILTIN_DEFAULT);
}

static void test_parse_subnet(void **state)
{
	uint32_t net;
	int len;
	char buf[16];
	assert_int_equal(ctw_net_parse_subnet("172.30.0.0/16", &net, &len, NULL), 0);
	assert_int_equal(net, 0xac1e0000);
	assert_int_equal(len, 16);
	net_ip4_format(net + 1, buf);
	assert_string_equal(buf, "172.30.0.1");
	assert_int_equal(ctw_net_parse_subnet("10.1.2.0/24", &net, &len, NULL), 0);
	assert_int_equal(len, 24);
	assert_int_equal(ctw_net_parse_subnet("10.1.2.1/24", &net, &len, NULL), -EINVAL);
	assert_int_equal(ctw_net_parse_subnet("10.0.0.0/31", &net, &len, NULL), -EINVAL);
	assert_int_equal(ctw_net_parse_subnet("10.0.0.0/7", &net, &len, NULL), -EINVAL);
	assert_int_equal(ctw_net_parse_subnet("10.0.0.0", &net, &len, NULL), -EINVAL);
	assert_int_equal(ctw_net_parse_subnet("10.0.0/8", &net, &len, NULL), -EINVAL);
	assert_int_equal(net_ip4_mask(24), 0xffffff00u);
	assert_int_equal(net_ip4_mask(0), 0);
}

static void test_id_valid(void **state)
{
	assert_true(net_id_valid("abc-1_2.3"));
	assert_false(net_id_valid(""));
	assert_false(net_id_valid(NULL));
	assert_false(net_id_valid(".hidden"));
	assert_false(net_id_valid("a/b"));
	assert_false(net_id_valid("a b"));
	char long_id[80];
	memset(long_id, 'a', 65);
	long_id[65] = '\0';
	assert_false(net_id_valid(long_id));
	long_id[64] = '\0';
	assert_true(net_id_valid(long_id));
}

static char tmpdir[64];

static int setup_tmp(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ctw-net-unit.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	setenv("CTRWATCH_STATE", tmpdir, 1);
	return 0;
}

static int teardown_tmp(void **state)
{
	ctw_rm_rf(tmpdir);
	unsetenv("CTRWATCH_STATE");
	unsetenv("CTRWATCH_NET_CONFIG");
	unsetenv("CTRWATCH_SUBNET");
	unsetenv("CTRWATCH_BRIDGE");
	unsetenv("CTRWATCH_MTU");
	return 0;
}

static void test_config(void **state)
{
	struct ctw_net_config cfg;
	struct ctw_err err = {0};
	char path[128];

	snprintf(path, sizeof(path), "%s/none.conf", tmpdir);
	setenv("CTRWATCH_NET_CONFIG", path, 1);
	assert_int_equal(ctw_net_config_load(&cfg, NULL, &err), 0);
	assert_string_equal(cfg.bridge, "ctrwatch0");
	assert_int_equal(cfg.subnet, 0xac1e0000);
	assert_int_equal(cfg.prefix_len, 16);
	assert_int_equal(cfg.mtu, 0);
	assert_string_equal(cfg.source, "default");

	snprintf(path, sizeof(path), "%s/net.conf", tmpdir);
	const char *conf =
		"# test\nbridge = ctwbr9\n  subnet=10.77.0.0/24  # comment\nmtu = 1400\n\n";
	assert_int_equal(ctw_write_file(path, conf, strlen(conf), true), 0);
	setenv("CTRWATCH_NET_CONFIG", path, 1);
	assert_int_equal(ctw_net_config_load(&cfg, NULL, &err), 0);
	assert_string_equal(cfg.bridge, "ctwbr9");
	assert_int_equal(cfg.subnet, 0x0a4d0000);
	assert_int_equal(cfg.prefix_len, 24);
	assert_int_equal(cfg.mtu, 1400);
	assert_string_equal(cfg.source, "file");

	setenv("CTRWATCH_SUBNET", "10.88.0.0/16", 1);
	assert_int_equal(ctw_net_config_load(&cfg, NULL, &err), 0);
	assert_int_equal(cfg.subnet, 0x0a580000);
	assert_string_equal(cfg.source, "env");
	assert_int_equal(ctw_net_config_load(&cfg, "192.168.7.0/24", &err), 0);
	assert_int_equal(cfg.subnet, 0xc0a80700);
	assert_string_equal(cfg.source, "flag");
	assert_int_not_equal(ctw_net_config_load(&cfg, "192.168.7.1/24", &err), 0);

	setenv("CTRWATCH_SUBNET", "bogus", 1);
	assert_int_not_equal(ctw_net_config_load(&cfg, NULL, &err), 0);
	assert_true(strstr(err.msg, "CTRWATCH_SUBNET") != NULL);
	unsetenv("CTRWATCH_SUBNET");

	conf = "subnet = 10.0.0.0/8\ncolour = blue\n";
	assert_int_equal(ctw_write_file(path, conf, strlen(conf), true), 0);
	ctw_err_clear(&err);
	assert_int_not_equal(ctw_net_config_load(&cfg, NULL, &err), 0);
	assert_true(strstr(err.msg, ":2:") != NULL);
	assert_true(strstr(err.msg, "colour") != NULL);
}

static void test_pick(void **state)
{
	struct ipam_state st = {.subnet = 0x0a000000, .prefix_len = 29};
	struct ipam_lease used[3];
	uint32_t ip;

	memset(used, 0, sizeof(used));
	/* /29: .0 network, .1 gateway, .7 broadcast -> .2 .. .6 */
	assert_int_equal(net_ipam_pick(&st, NULL, 0, &ip), 0);
	assert_int_equal(ip, 0x0a000002);
	used[0].ip = 0x0a000002;
	used[1].ip = 0x0a000003;
	used[2].ip = 0x0a000005;
	assert_int_equal(net_ipam_pick(&st, used, 3, &ip), 0);
	assert_int_equal(ip, 0x0a000004);
	st.next = 0x0a000005;
	assert_int_equal(net_ipam_pick(&st, used, 3, &ip), 0);
	assert_int_equal(ip, 0x0a000006);
	st.next = 0x0a000007; /* broadcast: wraps to the first */
	assert_int_equal(net_ipam_pick(&st, used, 3, &ip), 0);
	assert_int_equal(ip, 0x0a000004);

	struct ipam_state tiny = {.subnet = 0x0a000000, .prefix_len = 30};
	struct ipam_lease one = {.ip = 0x0a000002};
	assert_int_equal(net_ipam_pick(&tiny, NULL, 0, &ip), 0);
	assert_int_equal(ip, 0x0a000002);
	assert_int_equal(net_ipam_pick(&tiny, &one, 1, &ip), -ENOSPC);
}

static void test_lease_roundtrip(void **state)
{
	struct ipam_lease l = {.ip = 0xac1e0002, .pid = 42, .start = 777, .npublish = 2}, m;
	strcpy(l.id, "c1");
	strcpy(l.veth, "ctwvac1e0002");
	assert_int_equal(ctw_net_parse_publish("19700:80", &l.publish[0], NULL), 0);
	assert_int_equal(ctw_net_parse_publish("127.0.0.1:19701:53/udp", &l.publish[1], NULL), 0);
	char *text = net_ipam_lease_format(&l);
	assert_int_equal(net_ipam_lease_parse(text, &m), 0);
	free(text);
	assert_string_equal(m.id, "c1");
	assert_int_equal(m.ip, l.ip);
	assert_string_equal(m.veth, l.veth);
	assert_int_equal(m.pid, 42);
	assert_int_equal(m.start, 777);
	assert_int_equal(m.npublish, 2);
	assert_int_equal(m.publish[1].proto, IPPROTO_UDP);
	assert_string_equal(m.publish[1].host_ip, "127.0.0.1");
	assert_int_equal(net_ipam_lease_parse("id=x\n", &m), -EINVAL);
	assert_int_equal(net_ipam_lease_parse("id=../x\nip=1.2.3.4\n", &m), -EINVAL);
	assert_int_equal(net_ipam_lease_parse("garbage", &m), -EINVAL);
}

static void test_port_conflict(void **state)
{
	struct ipam_lease l[2];
	struct ctw_net_publish want[2];
	const char *owner = "x";

	memset(l, 0, sizeof(l));
	strcpy(l[0].id, "a");
	l[0].npublish = 1;
	ctw_net_parse_publish("127.0.0.1:19700:80", &l[0].publish[0], NULL);
	strcpy(l[1].id, "b");
	l[1].npublish = 1;
	ctw_net_parse_publish("19701:53/udp", &l[1].publish[0], NULL);

	ctw_net_parse_publish("19700:80/udp", &want[0], NULL);	    /* other proto */
	ctw_net_parse_publish("10.0.0.1:19700:80", &want[1], NULL); /* other address */
	assert_int_equal(net_ipam_port_conflict(l, 2, want, 2, &owner), -1);
	ctw_net_parse_publish("19700:8080", &want[1], NULL); /* any address */
	assert_int_equal(net_ipam_port_conflict(l, 2, want, 2, &owner), 1);
	assert_string_equal(owner, "a");
	ctw_net_parse_publish("10.0.0.1:19701:53/udp", &want[0], NULL);
	assert_int_equal(net_ipam_port_conflict(l, 2, want, 1, &owner), 0);
	assert_string_equal(owner, "b");
	ctw_net_parse_publish("19800:1", &want[0], NULL);
	ctw_net_parse_publish("19800:2", &want[1], NULL); /* twice in one run */
	assert_int_equal(net_ipam_port_conflict(NULL, 0, want, 2, &owner), 1);
	assert_null(owner);
}

static void test_alive(void **state)
{
	struct ipam_lease l = {.pid = getpid()};
	unsigned long long start;
	assert_int_equal(net_proc_start_time(getpid(), &start), 0);
	assert_true(start > 0);
	l.start = start;
	assert_true(net_ipam_lease_alive(&l));
	l.start = start + 1; /* pid reused by another process */
	assert_false(net_ipam_lease_alive(&l));
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	l.pid = child;
	l.start = 0;
	assert_false(net_ipam_lease_alive(&l));
}

/* One allocation, as setup does it: lock, list, pick, write. */
static int alloc_one(const char *id, uint32_t *ip)
{
	struct ipam_state st;
	struct ipam_lease *leases, l = {.pid = getpid()};
	size_t n;
	int fd = net_ipam_lock(NULL);
	if (fd < 0)
		return fd;
	if (net_ipam_state_read(&st) < 0) {
		memset(&st, 0, sizeof(st));
		strcpy(st.bridge, "ctrwatch0");
		st.subnet = 0xac1e0000;
		st.prefix_len = 24;
	}
	int r = net_ipam_leases_list(&leases, &n);
	if (!r)
		r = net_ipam_pick(&st, leases, n, &l.ip);
	if (!r) {
		st.next = l.ip + 1;
		snprintf(l.id, sizeof(l.id), "%s", id);
		r = net_ipam_state_write(&st);
		if (!r)
			r = net_ipam_lease_write(&l);
	}
	free(leases);
	net_ipam_unlock(fd);
	*ip = l.ip;
	return r;
}

static void test_ipam_concurrent(void **state)
{
	enum { PROCS = 8, EACH = 12 };
	pid_t pids[PROCS];
	struct ipam_lease *leases;
	size_t n;

	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			for (int i = 0; i < EACH; i++) {
				char id[32];
				uint32_t ip;
				snprintf(id, sizeof(id), "p%d-%d", p, i);
				if (alloc_one(id, &ip) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int status;
		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(net_ipam_leases_list(&leases, &n), 0);
	assert_int_equal(n, PROCS * EACH);
	for (size_t i = 1; i < n; i++)
		assert_true(leases[i - 1].ip < leases[i].ip); /* sorted, distinct */
	assert_true(leases[0].ip >= 0xac1e0002);
	assert_true(leases[n - 1].ip <= 0xac1e00fe);
	/* Release one and allocate again: round robin, not the freed one. */
	assert_int_equal(net_ipam_lease_remove(leases[0].id), 0);
	uint32_t ip;
	assert_int_equal(alloc_one("again", &ip), 0);
	assert_int_equal(ip, leases[n - 1].ip + 1);
	free(leases);
	/* A /24 has 253 usable addresses; exhausting it must fail cleanly. */
	int got = PROCS * EACH, r = 0;
	for (int i = 0; r == 0 && i < 300; i++) {
		char id[32];
		snprintf(id, sizeof(id), "fill-%d", i);
		r = alloc_one(id, &ip);
		if (!r)
			got++;
	}
	assert_int_equal(r, -ENOSPC);
	assert_int_equal(got, 253);
}

/* Leases made from another netns: teardown and gc release their files and
 * never touch this netns (no partition of our own gets created). */
static void test_other_partitions(void **state)
{
	struct ipam_lease l = {.ip = 0xac1e0002, .pid = getpid()};
	struct ctw_err err = {0};
	char own[256];
	unsigned released = 99;
	unsigned long long start;

	net_ipam_use_partition("ns-1");
	int fd = net_ipam_lock(NULL);
	assert_true(fd >= 0);
	strcpy(l.id, "other1");
	assert_int_equal(net_ipam_lease_write(&l), 0);
	l.ip++;
	strcpy(l.id, "alive1");
	assert_int_equal(net_proc_start_time(getpid(), &start), 0);
	l.start = start;
	assert_int_equal(net_ipam_lease_write(&l), 0);
	net_ipam_unlock(fd);
	net_ipam_use_partition("ns-2");
	fd = net_ipam_lock(NULL);
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	l.ip++;
	l.pid = child;
	strcpy(l.id, "dead2");
	assert_int_equal(net_ipam_lease_write(&l), 0);
	net_ipam_unlock(fd);
	net_ipam_use_partition(NULL);

	char **parts = net_ipam_partitions();
	assert_non_null(parts[0]);
	assert_non_null(parts[1]);
	assert_null(parts[2]);
	for (size_t i = 0; parts[i]; i++)
		free(parts[i]);
	free(parts);

	assert_int_equal(ctw_net_teardown("other1", &err), 0);
	assert_int_equal(ctw_net_gc(&released, &err), 0);
	assert_int_equal(released, 1); /* dead2; alive1 stays */
	net_ipam_use_partition("ns-1");
	assert_int_equal(net_ipam_lease_read("other1", &l), -ENOENT);
	assert_int_equal(net_ipam_lease_read("alive1", &l), 0);
	net_ipam_use_partition("ns-2");
	assert_int_equal(net_ipam_lease_read("dead2", &l), -ENOENT);
	net_ipam_use_partition(NULL);
	net_ipam_path(own, sizeof(own), NULL);
	assert_false(ctw_path_exists(own));
}

static void test_ruleset(void **state)
{
	struct ipam_state st = {.bridge = "ctrwatch0", .subnet = 0xac1e0000, .prefix_len = 16};
	struct ipam_lease l[2];
	memset(l, 0, sizeof(l));
	strcpy(l[0].id, "a");
	l[0].ip = 0xac1e0002;
	l[0].npublish = 1;
	ctw_net_parse_publish("19700:80", &l[0].publish[0], NULL);
	strcpy(l[1].id, "b");
	l[1].ip = 0xac1e0003;
	l[1].npublish = 1;
	ctw_net_parse_publish("10.9.9.9:19701:53/udp", &l[1].publish[0], NULL);

	char *t = net_nft_ruleset(&st, l, 2);
	assert_true(strstr(t, "add table ip ctrwatch\ndelete table ip ctrwatch\n") == t);
	assert_non_null(strstr(t, "\t\ttcp dport 19700 dnat to 172.30.0.2:80 comment \"a\"\n"));
	assert_non_null(strstr(
		t, "ip daddr 10.9.9.9 udp dport 19701 dnat to 172.30.0.3:53 comment \"b\"\n"));
	assert_non_null(strstr(t, "ip saddr 172.30.0.0/16 oifname != \"ctrwatch0\" masquerade"));
	assert_non_null(strstr(t, "oifname \"ctrwatch0\" ip saddr 127.0.0.0/8 masquerade"));
	assert_non_null(strstr(t, "type nat hook output"));
	free(t);
	t = net_nft_ruleset(&st, l, 0);
	assert_string_equal(t, "add table ip ctrwatch\ndelete table ip ctrwatch\n");
	free(t);
}

static void test_resolv_hosts(void **state)
{
	const char *host =
		"# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch example.org\n"
		"options edns0\n";
	char *t = net_resolv_conf(host, NULL, true);
	assert_null(strstr(t, "127.0.0.53"));
	assert_non_null(strstr(t, "nameserver 10.0.0.2\n"));
	assert_non_null(strstr(t, "search example.org\n"));
	assert_non_null(strstr(t, "options edns0\n"));
	free(t);

	t = net_resolv_conf(host, NULL, false);
	assert_non_null(strstr(t, "nameserver 127.0.0.53\n"));
	free(t);

	const char *dns[] = {"192.0.2.53", "192.0.2.54", NULL};
	t = net_resolv_conf(host, dns, true);
	assert_null(strstr(t, "10.0.0.2"));
	assert_non_null(strstr(t, "nameserver 192.0.2.53\nnameserver 192.0.2.54\n"));
	assert_non_null(strstr(t, "search example.org\n"));
	free(t);

	t = net_resolv_conf("nameserver 127.0.0.53\n", NULL, true);
	assert_null(strstr(t, "\nnameserver"));
	assert_non_null(strstr(t, "use --dns"));
	free(t);

	t = net_hosts("172.30.0.9", "web", "web-1");
	assert_non_null(strstr(t, "127.0.0.1\tlocalhost\n"));
	assert_non_null(strstr(t, "172.30.0.9\tweb web-1\n"));
	free(t);
	t = net_hosts(NULL, "web", "web");
	assert_non_null(strstr(t, "127.0.1.1\tweb\n"));
	free(t);
}

static void test_files_write(void **state)
{
	char dir[128], path[160], *text;
	const char *dns[] = {"192.0.2.1", NULL};
	struct ctw_net_opts o = {.mode = CTW_NET_BRIDGE,
				 .container_id = "abcdef0123456789",
				 .name = "db",
				 .dns = dns};
	snprintf(dir, sizeof(dir), "%s/files", tmpdir);
	o.files_dir = dir;
	assert_int_equal(net_files_write(&o, "172.30.0.4", NULL), 0);
	snprintf(path, sizeof(path), "%s/hostname", dir);
	assert_int_equal(ctw_read_file(path, &text, NULL), 0);
	assert_string_equal(text, "db\n");
	free(text);
	snprintf(path, sizeof(path), "%s/hosts", dir);
	assert_int_equal(ctw_read_file(path, &text, NULL), 0);
	assert_non_null(strstr(text, "172.30.0.4\tdb\n"));
	free(text);
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	assert_int_equal(ctw_read_file(path, &text, NULL), 0);
	assert_non_null(strstr(text, "nameserver 192.0.2.1\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_publish),
		cmocka_unit_test(test_parse_mode),
		cmocka_unit_test(test_parse_subnet),
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test_setup_teardown(test_config, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_lease_roundtrip),
		cmocka_unit_test(test_port_conflict),
		cmocka_unit_test(test_alive),
		cmocka_unit_test_setup_teardown(test_ipam_concurrent, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_other_partitions, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_ruleset),
		cmocka_unit_test(test_resolv_hosts),
		cmocka_unit_test_setup_teardown(test_files_write, setup_tmp, teardown_tmp),
	};
	return cmocka_run_group_tests_name("network", tests, NULL, NULL);
}
