// SPDX-License-Identifier: MIT
#include "netinfo.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hashtab.h"
#include "links.h"
#include "names.h"
#include "trace.h"

#define RESCAN_INTERVAL_NS 1000000000ull

struct link_entry {
	struct ht_node node;
	struct link_info li;
};

struct netinfo {
	struct netns_names *names;
	struct hashtab links; /* (netns, ifindex) -> link_entry */
	char proc_root[256], netns_dir[256];
	uint64_t last_scan_ns;
	int scanned;
};

static uint64_t link_key(uint64_t netns, uint32_t ifindex)
{
	return ht_hash_add(ht_hash64(netns), ifindex);
}

static struct link_entry *link_find(const struct netinfo *ni, uint64_t netns, uint32_t ifindex)
{
	for (struct ht_node *h = ht_find_first(&ni->links, link_key(netns, ifindex)); h;
	     h = ht_find_next(h)) {
		struct link_entry *e = ht_entry(h, struct link_entry, node);

		if (e->li.netns == netns && e->li.ifindex == ifindex)
			return e;
	}
	return NULL;
}

int netinfo_new(struct netinfo **out, const char *proc_root, const char *netns_dir)
{
	struct netinfo *ni = calloc(1, sizeof(*ni));

	*out = NULL;
	if (!ni || ht_init(&ni->links, 64)) {
		free(ni);
		return -ENOMEM;
	}
	if (netns_names_new(&ni->names, proc_root, netns_dir)) {
		ht_destroy(&ni->links);
		free(ni);
		return -ENOMEM;
	}
	snprintf(ni->proc_root, sizeof(ni->proc_root), "%s", proc_root);
	snprintf(ni->netns_dir, sizeof(ni->netns_dir), "%s", netns_dir);
	*out = ni;
	return 0;
}

static void free_link(struct ht_node *h, void *ctx)
{
	(void)ctx;
	free(ht_entry(h, struct link_entry, node));
}

void netinfo_free(struct netinfo *ni)
{
	if (!ni)
		return;
	netns_names_free(ni->names);
	ht_for_each(&ni->links, free_link, NULL);
	ht_destroy(&ni->links);
	free(ni);
}

struct open_ctx {
	int *fds;
	uint64_t *inodes;
	size_t n, cap;
};

static void open_ns(uint64_t inode, const struct netns_name *n, const char *path, void *ctx)
{
	struct open_ctx *o = ctx;
	int fd;

	(void)n;
	if (o->n == o->cap)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* the namespace or its process is gone since the scan */
	o->fds[o->n] = fd;
	o->inodes[o->n++] = inode;
}

static void keep_link(const struct link_info *li, void *ctx)
{
	struct netinfo *ni = ctx;
	struct link_entry *e = link_find(ni, li->netns, li->ifindex);

	if (e) {
		e->li = *li; /* renamed, re-parented: the newest wins */
		return;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return; /* relations are extra: without memory they are left out */
	e->li = *li;
	ht_insert(&ni->links, &e->node, link_key(li->netns, li->ifindex));
}

static void count_ns(uint64_t inode, const struct netns_name *n, const char *path, void *ctx)
{
	(void)inode;
	(void)n;
	(void)path;
	(*(size_t *)ctx)++;
}

int netinfo_scan(struct netinfo *ni, char *err, size_t errlen)
{
	struct open_ctx o = {0};
	size_t n = 0;
	int rc;

	ni->scanned = 1;
	rc = netns_names_scan(ni->names);
	if (rc < 0) {
		snprintf(err, errlen, "naming namespaces: %s", strerror(-rc));
		return rc;
	}
	netns_names_for_each(ni->names, count_ns, &n);
	o.cap = n;
	o.fds = calloc(n ? n : 1, sizeof(*o.fds));
	o.inodes = calloc(n ? n : 1, sizeof(*o.inodes));
	if (!o.fds || !o.inodes) {
		free(o.fds);
		free(o.inodes);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	netns_names_for_each(ni->names, open_ns, &o);
	rc = links_scan(o.fds, o.inodes, o.n, keep_link, ni, err, errlen);
	for (size_t i = 0; i < o.n; i++)
		close(o.fds[i]);
	free(o.fds);
	free(o.inodes);
	return rc < 0 ? rc : 0;
}

/* Something is unknown: scan again now? At start, then at most once a second. */
static bool may_rescan(struct netinfo *ni, uint64_t now_ns)
{
	if (ni->scanned && now_ns - ni->last_scan_ns < RESCAN_INTERVAL_NS)
		return false;
	ni->scanned = 1;
	ni->last_scan_ns = now_ns;
	return true;
}

int netinfo_ns_name(struct netinfo *ni, uint64_t netns, uint64_t now_ns, char *buf, size_t cap)
{
	struct netns_name nm = netns_names_get(ni->names, netns);

	if (!nm.kind && may_rescan(ni, now_ns)) {
		(void)netns_names_scan(ni->names); /* names only: no rtnetlink for a print */
		nm = netns_names_get(ni->names, netns);
	}
	if (!nm.kind)
		return 0;
	return snprintf(buf, cap, "%s", nm.name) < (int)cap ? 1 : -ENOSPC;
}

int netinfo_describe(struct netinfo *ni, uint64_t netns, uint32_t ifindex, uint64_t now_ns,
		     char *buf, size_t cap)
{
	struct netns_name nm = netns_names_get(ni->names, netns);
	const struct link_entry *le = link_find(ni, netns, ifindex);
	struct trace_if_attrs at;

	if ((!nm.kind || (ifindex && !le)) && may_rescan(ni, now_ns)) {
		char err[128];

		(void)netinfo_scan(ni, err, sizeof(err)); /* what is known is still written */
		nm = netns_names_get(ni->names, netns);
		le = link_find(ni, netns, ifindex);
	}
	if (le)
		at = le->li.at;
	else
		memset(&at, 0, sizeof(at));
	if (nm.kind) {
		snprintf(at.netns_name, sizeof(at.netns_name), "%s", nm.name);
		snprintf(at.netns_kind, sizeof(at.netns_kind), "%s", netns_name_kind_str(nm.kind));
	}
	return trace_if_attrs_format(buf, cap, &at);
}
