// SPDX-License-Identifier: MIT
#include "names.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "hashtab.h"

struct name_entry {
	struct ht_node node;
	uint64_t inode;
	struct netns_name n;
	int rank;      /* of n: kind_rank(), or RANK_RUNTIME_MOUNT */
	char path[96]; /* a file that opens the namespace (nsfs mount or /proc/PID/ns/net) */
};

struct netns_names {
	struct hashtab by_inode;
	char proc_root[256];
	char netns_dir[256];
};

/*
 * A stronger name replaces a weaker one: an `ip netns` name beats a
 * container id, which beats the last component of a runtime's own nsfs
 * mount (docker's netns/SANDBOX-ID says nothing a user knows), which beats a
 * process.
 */
#define RANK_RUNTIME_MOUNT 2
static int kind_rank(enum netns_name_kind k)
{
	switch (k) {
	case NETNS_NAME_HOST:
		return 6;
	case NETNS_NAME_NETNS:
		return 5;
	case NETNS_NAME_POD:
		return 4;
	case NETNS_NAME_CONTAINER:
		return 3;
	case NETNS_NAME_PROCESS:
		return 1;
	default:
		return 0;
	}
}

const char *netns_name_kind_str(enum netns_name_kind k)
{
	switch (k) {
	case NETNS_NAME_HOST:
		return "host";
	case NETNS_NAME_NETNS:
		return "netns";
	case NETNS_NAME_CONTAINER:
		return "container";
	case NETNS_NAME_POD:
		return "pod";
	case NETNS_NAME_PROCESS:
		return "process";
	default:
		return "none";
	}
}

static struct name_entry *find(const struct netns_names *nn, uint64_t inode)
{
	for (struct ht_node *h = ht_find_first(&nn->by_inode, ht_hash64(inode)); h;
	     h = ht_find_next(h)) {
		struct name_entry *e = ht_entry(h, struct name_entry, node);

		if (e->inode == inode)
			return e;
	}
	return NULL;
}

/* Remember a name unless a better one (rank) is known. Returns 0 or -ENOMEM. */
static int offer(struct netns_names *nn, uint64_t inode, const struct netns_name *n, int rank,
		 const char *path)
{
	struct name_entry *e = find(nn, inode);

	if (e) {
		if (rank > e->rank) {
			e->n = *n;
			e->rank = rank;
		}
		/* a mount outlives a process: prefer it as the way in */
		if (n->kind == NETNS_NAME_NETNS || !e->path[0])
			snprintf(e->path, sizeof(e->path), "%s", path);
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->inode = inode;
	e->n = *n;
	e->rank = rank;
	snprintf(e->path, sizeof(e->path), "%s", path);
	ht_insert(&nn->by_inode, &e->node, ht_hash64(inode));
	return 0;
}

int netns_names_new(struct netns_names **out, const char *proc_root, const char *netns_dir)
{
	struct netns_names *nn = calloc(1, sizeof(*nn));

	*out = NULL;
	if (!nn)
		return -ENOMEM;
	if (ht_init(&nn->by_inode, 64)) {
		free(nn);
		return -ENOMEM;
	}
	snprintf(nn->proc_root, sizeof(nn->proc_root), "%s", proc_root);
	snprintf(nn->netns_dir, sizeof(nn->netns_dir), "%s", netns_dir);
	*out = nn;
	return 0;
}

static void free_entry(struct ht_node *h, void *ctx)
{
	(void)ctx;
	free(ht_entry(h, struct name_entry, node));
}

struct for_each_ctx {
	void (*fn)(uint64_t inode, const struct netns_name *n, const char *path, void *ctx);
	void *ctx;
};

static void visit(struct ht_node *h, void *ctx)
{
	struct for_each_ctx *c = ctx;
	const struct name_entry *e = ht_entry(h, struct name_entry, node);

	c->fn(e->inode, &e->n, e->path, c->ctx);
}

void netns_names_for_each(const struct netns_names *nn,
			  void (*fn)(uint64_t inode, const struct netns_name *n, const char *path,
				     void *ctx),
			  void *ctx)
{
	struct for_each_ctx c = {fn, ctx};

	ht_for_each(&nn->by_inode, visit, &c);
}

void netns_names_free(struct netns_names *nn)
{
	if (!nn)
		return;
	ht_for_each(&nn->by_inode, free_entry, NULL);
	ht_destroy(&nn->by_inode);
	free(nn);
}

struct netns_name netns_names_get(const struct netns_names *nn, uint64_t inode)
{
	struct netns_name none = {0};
	const struct name_entry *e = nn ? find(nn, inode) : NULL;

	return e ? e->n : none;
}

/* "net:[4026531993]" -> 4026531993; 0 if not that form. */
static uint64_t parse_ns_link(const char *s)
{
	const char *p = strchr(s, '[');
	uint64_t v = 0;

	if (strncmp(s, "net:", 4) || !p)
		return 0;
	for (p++; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return *p == ']' ? v : 0;
}

#define NSFS_MAGIC_NUMBER 0x6e736673 /* linux/magic.h NSFS_MAGIC */

/* The netns inode a path refers to: a symlink net:[N] (/proc) or an nsfs file (bind mount). */
static uint64_t ns_inode_of(const char *path)
{
	char link[64];
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	struct statfs sfs;
	struct stat st;

	if (n > 0) {
		link[n] = 0;
		return parse_ns_link(link);
	}
	if (statfs(path, &sfs) == 0 && (unsigned long)sfs.f_type == NSFS_MAGIC_NUMBER &&
	    stat(path, &st) == 0)
		return (uint64_t)st.st_ino;
	return 0;
}

static void copy_name(char *dst, size_t cap, const char *prefix, const char *src, size_t len)
{
	size_t pl = strlen(prefix), j = 0;

	for (size_t i = 0; i < pl && j + 1 < cap; i++)
		dst[j++] = prefix[i];
	for (size_t i = 0; i < len && j + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];

		/* names travel in files as one key=value word: no spaces, no control
		 * bytes, nothing that would need escaping */
		dst[j++] = (c > 0x20 && c < 0x7f && c != '%' && c != '=') ? (char)c : '_';
	}
	dst[j] = 0;
}

/* Length of the hex id at s (at least 12 digits to count as an id), else 0. */
static size_t hex_id_len(const char *s)
{
	size_t n = 0;

	while (isxdigit((unsigned char)s[n]))
		n++;
	return n >= 12 ? n : 0;
}

/* Look for PREFIX<hex id> in one cgroup path; fills out with kind:id12. */
static int match_container(const char *path, const char *prefix, const char *label,
			   struct netns_name *out)
{
	const char *p = path;
	size_t pl = strlen(prefix);

	while ((p = strstr(p, prefix)) != NULL) {
		size_t n = hex_id_len(p + pl);

		if (n) {
			char lab[24];

			snprintf(lab, sizeof(lab), "%s:", label);
			out->kind = NETNS_NAME_CONTAINER;
			/* docker's short id: the first 12 digits */
			copy_name(out->name, sizeof(out->name), lab, p + pl, 12);
			return 1;
		}
		p += pl;
	}
	return 0;
}

/* kubepods[-burstable|-besteffort]...pod<UID> (dashes or underscores): 1 and out filled. */
static int pod_from_path(const char *path, struct netns_name *out)
{
	if (!strstr(path, "kubepods"))
		return 0;
	for (const char *q = path; (q = strstr(q, "pod")) != NULL; q += 3) {
		size_t n = 0;
		char uid[64];

		while (isxdigit((unsigned char)q[3 + n]) || q[3 + n] == '-' || q[3 + n] == '_')
			n++;
		if (n < 32)
			continue; /* "kubepods" itself, or a name that only contains "pod" */
		copy_name(uid, sizeof(uid), "", q + 3, n);
		for (char *c = uid; *c; c++)
			if (*c == '_')
				*c = '-';
		out->kind = NETNS_NAME_POD;
		snprintf(out->name, sizeof(out->name), "pod:%.59s", uid);
		return 1;
	}
	return 0;
}

/* systemd-nspawn: machine-NAME.scope, NAME with \x2d for dashes. */
static int nspawn_from_path(const char *path, struct netns_name *out)
{
	const char *p = strstr(path, "machine-"), *s, *e;
	char nm[NETNS_NAME_LEN];
	size_t j = 0;

	if (!p || !(e = strstr(p, ".scope")))
		return 0;
	for (s = p + 8; s < e && j + 1 < sizeof(nm); s++) {
		if (!strncmp(s, "\\x2d", 4)) {
			nm[j++] = '-';
			s += 3;
		} else {
			nm[j++] = *s;
		}
	}
	nm[j] = 0;
	out->kind = NETNS_NAME_CONTAINER;
	snprintf(out->name, sizeof(out->name), "nspawn:%.55s", nm);
	return 1;
}

int netns_name_from_cgroup(const char *text, struct netns_name *out)
{
	struct netns_name found = {0};

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char path[1024];

		copy_name(path, sizeof(path), "", line, len);
		if (pod_from_path(path, out))
			return 1; /* a pod wins over its containers, on any line */
		if (!found.kind)
			(void)(match_container(path, "docker-", "docker", &found) ||
			       match_container(path, "/docker/", "docker", &found) ||
			       match_container(path, "cri-containerd-", "containerd", &found) ||
			       match_container(path, "crio-", "crio", &found) ||
			       match_container(path, "libpod-", "podman", &found) ||
			       nspawn_from_path(path, &found));
		line = end ? end + 1 : NULL;
	}
	if (found.kind) {
		*out = found;
		return 1;
	}
	return 0;
}

static int read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t have = 0;

	if (fd < 0)
		return -errno;
	while (have + 1 < cap) {
		ssize_t n = read(fd, buf + have, cap - 1 - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	buf[have] = 0;
	return (int)have;
}

/* `ip netns` names: every entry of netns_dir that is a namespace. */
static int scan_netns_dir(struct netns_names *nn)
{
	DIR *d = opendir(nn->netns_dir);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return 0; /* no named namespaces */
	while ((de = readdir(d)) != NULL && !rc) {
		char path[512];
		uint64_t ino;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", nn->netns_dir, de->d_name);
		ino = ns_inode_of(path);
		if (ino) {
			struct netns_name n = {.kind = NETNS_NAME_NETNS};

			copy_name(n.name, sizeof(n.name), "", de->d_name, strlen(de->d_name));
			rc = offer(nn, ino, &n, kind_rank(n.kind), path);
		}
	}
	closedir(d);
	return rc;
}

/* Other nsfs mount points (e.g. a runtime's own folder): named by their last component. */
static int scan_mountinfo(struct netns_names *nn)
{
	char path[512], buf[65536];
	int rc = 0;

	snprintf(path, sizeof(path), "%s/self/mountinfo", nn->proc_root);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	for (char *line = buf, *end; line && *line && !rc; line = end ? end + 1 : NULL) {
		char *f[10] = {0}, *sep;
		int nf = 0;

		end = strchr(line, '\n');
		if (end)
			*end = 0;
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SOURCE SUPER */
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "nsfs ", 5))
			continue;
		for (char *tok = strtok(line, " "); tok && nf < 10; tok = strtok(NULL, " "))
			f[nf++] = tok;
		if (nf < 5 || !strncmp(f[4], nn->netns_dir, strlen(nn->netns_dir)))
			continue; /* already named from netns_dir */
		uint64_t ino = ns_inode_of(f[4]);
		if (ino) {
			const char *base = strrchr(f[4], '/');
			struct netns_name n = {.kind = NETNS_NAME_NETNS};

			base = base ? base + 1 : f[4];
			copy_name(n.name, sizeof(n.name), "", base, strlen(base));
			rc = offer(nn, ino, &n, RANK_RUNTIME_MOUNT, f[4]);
		}
	}
	return rc;
}

/* Every process: its namespace gets its container/pod, else its comm[pid]. */
static int scan_processes(struct netns_names *nn)
{
	DIR *d = opendir(nn->proc_root);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL && !rc) {
		char path[512], nspath[512], text[4096];
		struct netns_name n = {0};
		uint64_t ino;
		char *e;
		long pid = strtol(de->d_name, &e, 10);

		if (*e || pid <= 0)
			continue;
		snprintf(nspath, sizeof(nspath), "%s/%ld/ns/net", nn->proc_root, pid);
		ino = ns_inode_of(nspath);
		if (!ino)
			continue;
		snprintf(path, sizeof(path), "%s/%ld/cgroup", nn->proc_root, pid);
		if (read_small(path, text, sizeof(text)) > 0 && netns_name_from_cgroup(text, &n)) {
			rc = offer(nn, ino, &n, kind_rank(n.kind), nspath);
			continue;
		}
		/* /proc lists pids in ascending order: the first one seen is the oldest */
		if (netns_names_get(nn, ino).kind != NETNS_NAME_NONE)
			continue;
		snprintf(path, sizeof(path), "%s/%ld/comm", nn->proc_root, pid);
		if (read_small(path, text, sizeof(text)) <= 0)
			continue;
		text[strcspn(text, "\n")] = 0;
		n.kind = NETNS_NAME_PROCESS;
		char comm[24];
		copy_name(comm, sizeof(comm), "", text, strlen(text));
		snprintf(n.name, sizeof(n.name), "%s[%ld]", comm, pid);
		rc = offer(nn, ino, &n, kind_rank(n.kind), nspath);
	}
	closedir(d);
	return rc;
}

int netns_names_scan(struct netns_names *nn)
{
	char path[512];
	uint64_t host;
	int rc;

	/* the initial namespace: pid 1's; where that is hidden, our own */
	snprintf(path, sizeof(path), "%s/1/ns/net", nn->proc_root);
	host = ns_inode_of(path);
	if (!host) {
		snprintf(path, sizeof(path), "%s/self/ns/net", nn->proc_root);
		host = ns_inode_of(path);
	}
	if (host) {
		struct netns_name n = {.kind = NETNS_NAME_HOST, .name = "host"};

		if ((rc = offer(nn, host, &n, kind_rank(n.kind), path)))
			return rc;
	}
	if ((rc = scan_netns_dir(nn)) || (rc = scan_mountinfo(nn)) || (rc = scan_processes(nn)))
		return rc;
	return (int)ht_count(&nn->by_inode);
}
