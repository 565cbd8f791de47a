// SPDX-License-Identifier: MIT
#include "test.h"
#include "names.h"
#include "netinfo.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(names_cgroup_patterns)
{
	struct netns_name n;

	ASSERT_EQ(netns_name_from_cgroup(
		      "0::/system.slice/docker-"
		      "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081.scope\n",
		      &n),
		  1, "docker scope");
	ASSERT_STREQ(n.name, "docker:3f2a1b4c5d6e", "docker short id");
	ASSERT_EQ(n.kind, NETNS_NAME_CONTAINER, "a container");
	ASSERT_EQ(netns_name_from_cgroup("12:memory:/docker/abcdef0123456789abcdef\n", &n), 1,
		  "cgroup v1 docker");
	ASSERT_STREQ(n.name, "docker:abcdef012345", "v1 short id");
	ASSERT_EQ(netns_name_from_cgroup("0::/system.slice/crio-0123456789abcdef0123.scope", &n), 1,
		  "cri-o");
	ASSERT_STREQ(n.name, "crio:0123456789ab", "cri-o id");
	ASSERT_EQ(netns_name_from_cgroup("0::/user.slice/libpod-fedcba9876543210ff.scope\n", &n), 1,
		  "podman");
	ASSERT_STREQ(n.name, "podman:fedcba987654", "podman id");
	ASSERT_EQ(netns_name_from_cgroup("0::/machine.slice/machine-web\\x2d1.scope\n", &n), 1,
		  "nspawn");
	ASSERT_STREQ(n.name, "nspawn:web-1", "nspawn name unescaped");
	ASSERT_EQ(netns_name_from_cgroup(
		      "0::/kubepods.slice/kubepods-besteffort.slice/"
		      "kubepods-besteffort-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/"
		      "cri-containerd-aaaaaaaaaaaaaaaaaaaaaaaa.scope\n",
		      &n),
		  1, "kubernetes pod (systemd driver)");
	ASSERT_EQ(n.kind, NETNS_NAME_POD, "the pod wins over its container");
	ASSERT_STREQ(n.name, "pod:1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901", "pod uid with dashes");
	ASSERT_EQ(netns_name_from_cgroup("0::/user.slice/user-0.slice/session-3.scope\n", &n), 0,
		  "a login session is no container");
	ASSERT_EQ(netns_name_from_cgroup("0::/docker-short.scope\n", &n), 0, "too short an id");
	ASSERT_EQ(netns_name_from_cgroup("", &n), 0, "empty text");
}

static int put(const char *root, const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int link_ns(const char *root, const char *rel, const char *target)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return symlink(target, p);
}

static int mkd(const char *root, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return mkdir(p, 0755);
}

struct paths {
	int n;
	char s[2048];
};

static void note_path(uint64_t inode, const struct netns_name *n, const char *path, void *ctx)
{
	struct paths *p = ctx;
	size_t len = strlen(p->s);

	(void)n;
	p->n++;
	snprintf(p->s + len, sizeof(p->s) - len, "%llu=%s;", (unsigned long long)inode, path);
}

TEST(names_scan_fake_proc)
{
	char root[] = "/tmp/pkt-names-XXXXXX";
	char proc[600], netns[600];
	struct netns_names *nn = NULL;
	const char *dirs[] = {"proc",	      "proc/1",	    "proc/1/ns", "proc/40",    "proc/40/ns",
			      "proc/41",      "proc/41/ns", "proc/52",	 "proc/52/ns", "proc/self",
			      "proc/self/ns", "run",	    "rt",	 "rt/netns"};
	char mounts[1400];

	ASSERT_TRUE(mkdtemp(root) != NULL, "mkdtemp");
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		ASSERT_OK(mkd(root, dirs[i]), dirs[i]);
	/* host: pid 1; a named netns (a symlink stands for the nsfs bind mount); a
	 * container whose first process is sh; a namespace held by unshare only */
	ASSERT_OK(link_ns(root, "proc/1/ns/net", "net:[4026531993]"), "pid 1");
	ASSERT_OK(link_ns(root, "run/pkt-a-1234", "net:[4026532300]"), "ip netns");
	ASSERT_OK(link_ns(root, "proc/40/ns/net", "net:[4026532400]"), "pid 40");
	ASSERT_OK(put(root, "proc/40/comm", "sh\n"), "comm 40");
	ASSERT_OK(put(root, "proc/40/cgroup", "0::/user.slice\n"), "cgroup 40");
	ASSERT_OK(link_ns(root, "proc/41/ns/net", "net:[4026532400]"), "pid 41");
	ASSERT_OK(put(root, "proc/41/comm", "nginx\n"), "comm 41");
	ASSERT_OK(
	    put(root, "proc/41/cgroup", "0::/system.slice/docker-0123456789abcdef0123.scope\n"),
	    "cgroup 41");
	ASSERT_OK(link_ns(root, "proc/52/ns/net", "net:[4026532500]"), "pid 52");
	ASSERT_OK(put(root, "proc/52/comm", "unshare\n"), "comm 52");
	ASSERT_OK(put(root, "proc/52/cgroup", "0::/user.slice\n"), "cgroup 52");
	/* a runtime's own nsfs mounts (docker's netns/SANDBOX-ID): the container's
	 * name beats it; a namespace that is only mounted keeps the mount's name */
	ASSERT_OK(link_ns(root, "rt/netns/b817e341ede5", "net:[4026532400]"), "docker's mount");
	ASSERT_OK(link_ns(root, "rt/netns/sandbox2", "net:[4026532600]"), "a mount alone");
	snprintf(mounts, sizeof(mounts),
		 "22 1 0:4 net:[4026532400] %s/rt/netns/b817e341ede5 rw shared:5 - nsfs nsfs rw\n"
		 "23 1 0:4 net:[4026532600] %s/rt/netns/sandbox2 rw shared:6 - nsfs nsfs rw\n",
		 root, root);
	ASSERT_OK(put(root, "proc/self/mountinfo", mounts), "mountinfo");

	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(netns, sizeof(netns), "%s/run", root);
	ASSERT_OK(netns_names_new(&nn, proc, netns), "new");
	ASSERT_EQ(netns_names_scan(nn), 5, "five namespaces");
	struct netns_name n = netns_names_get(nn, 4026531993);
	ASSERT_EQ(n.kind, NETNS_NAME_HOST, "pid 1's namespace is the host");
	n = netns_names_get(nn, 4026532300);
	ASSERT_STREQ(n.name, "pkt-a-1234", "ip netns name");
	n = netns_names_get(nn, 4026532400);
	ASSERT_STREQ(n.name, "docker:0123456789ab",
		     "a container beats the runtime's mount and the first process");
	ASSERT_STREQ(netns_name_kind_str(n.kind), "container", "its kind word");
	n = netns_names_get(nn, 4026532600);
	ASSERT_STREQ(n.name, "sandbox2", "only mounted: the mount's name");
	n = netns_names_get(nn, 4026532500);
	ASSERT_STREQ(n.name, "unshare[52]", "held by a process");
	ASSERT_STREQ(netns_name_kind_str(n.kind), "process", "kind word");
	ASSERT_EQ(netns_names_get(nn, 1).kind, NETNS_NAME_NONE, "unknown inode");
	struct paths p = {0};
	netns_names_for_each(nn, note_path, &p);
	ASSERT_EQ(p.n, 5, "each namespace visited once");
	ASSERT_TRUE(strstr(p.s, "4026532400=") && strstr(p.s, "/rt/netns/b817e341ede5;"),
		    "a container's namespace opens through the runtime's mount");
	ASSERT_TRUE(strstr(p.s, "4026532300=") && strstr(p.s, "/run/pkt-a-1234;"),
		    "a named namespace opens through its mount");
	ASSERT_TRUE(strstr(p.s, "4026532500=") && strstr(p.s, "/proc/52/ns/net;"),
		    "an unnamed one through a process inside");
	netns_names_free(nn);

	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ASSERT_EQ(system(cmd), 0, "clean up");
}

TEST(names_netinfo_describe_without_links)
{
	/* a fake tree: names resolve, no namespace opens, so no relations */
	char root[] = "/tmp/pkt-netinfo-XXXXXX", proc[600], netns[600], buf[256];
	struct netinfo *ni = NULL;

	ASSERT_TRUE(mkdtemp(root) != NULL, "mkdtemp");
	ASSERT_OK(mkd(root, "proc"), "proc");
	ASSERT_OK(mkd(root, "proc/1"), "proc/1");
	ASSERT_OK(mkd(root, "proc/1/ns"), "proc/1/ns");
	ASSERT_OK(mkd(root, "run"), "run");
	ASSERT_OK(link_ns(root, "proc/1/ns/net", "net:[4026531993]"), "pid 1");
	ASSERT_OK(link_ns(root, "run/a%b=c d", "net:[4026532300]"), "odd name");
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(netns, sizeof(netns), "%s/run", root);
	ASSERT_OK(netinfo_new(&ni, proc, netns), "new");
	ASSERT_EQ(netinfo_describe(ni, 4026532300, 2, 1, buf, sizeof(buf)), 35, "described");
	ASSERT_STREQ(buf, "netns_name=a_b_c_d netns_kind=netns", "one word, nothing to escape");
	ASSERT_OK(netinfo_describe(ni, 4026531993, 0, 2, buf, sizeof(buf)), "host");
	ASSERT_STREQ(buf, "netns_name=host netns_kind=host", "the initial namespace");
	ASSERT_EQ(netinfo_describe(ni, 77, 1, 3, buf, sizeof(buf)), 0, "unknown: nothing");
	ASSERT_EQ(netinfo_describe(ni, 4026532300, 2, 4, buf, 8), -28, "small buffer");
	netinfo_free(ni);

	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ASSERT_EQ(system(cmd), 0, "clean up");
}
