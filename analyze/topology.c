// SPDX-License-Identifier: MIT
#include "topology.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hashtab.h"

struct tnode {
	struct ht_node by_key; /* (host, netns, ifindex or name) */
	struct ht_node by_ns;  /* in named while it names its namespace */
	struct topo_iface i;   /* strings owned */
	size_t order;
};

struct topology {
	struct hashtab ifaces;
	/* (host, netns) -> the first interface (in order) that gives its name */
	struct hashtab named;
	struct tnode **list; /* in order of first appearance */
	size_t n, cap;
};

static uint64_t ns_hash(const char *host, uint64_t netns)
{
	return ht_hash_add(ht_hash_str(0, host), netns);
}

static uint64_t key_hash(const char *host, uint64_t netns, uint32_t ifindex, const char *ifname)
{
	uint64_t h = ns_hash(host, netns);

	/* interfaces are known by ifindex where the file says it, else by name */
	return ifindex ? ht_hash_add(h, ifindex) : ht_hash_str(h, ifname);
}

static struct tnode *find(const struct topology *t, const char *host, uint64_t netns,
			  uint32_t ifindex, const char *ifname)
{
	for (struct ht_node *n = ht_find_first(&t->ifaces, key_hash(host, netns, ifindex, ifname));
	     n; n = ht_find_next(n)) {
		struct tnode *x = ht_entry(n, struct tnode, by_key);

		if (x->i.netns == netns && !strcmp(x->i.host, host) &&
		    (ifindex ? x->i.ifindex == ifindex : !strcmp(x->i.ifname, ifname)))
			return x;
	}
	return NULL;
}

static const struct tnode *named_find(const struct topology *t, const char *host, uint64_t netns)
{
	for (struct ht_node *n = ht_find_first(&t->named, ns_hash(host, netns)); n;
	     n = ht_find_next(n)) {
		const struct tnode *x = ht_entry(n, struct tnode, by_ns);

		if (x->i.netns == netns && !strcmp(x->i.host, host))
			return x;
	}
	return NULL;
}

/* x has a name now: it names its namespace unless an interface before it does. */
static void named_note(struct topology *t, struct tnode *x)
{
	struct tnode *cur = (struct tnode *)named_find(t, x->i.host, x->i.netns);

	if (cur && cur->order < x->order)
		return;
	if (cur)
		ht_remove(&t->named, &cur->by_ns);
	ht_insert(&t->named, &x->by_ns, ns_hash(x->i.host, x->i.netns));
}

struct topology *topology_new(void)
{
	struct topology *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (ht_init(&t->ifaces, 32) || ht_init(&t->named, 8)) {
		ht_destroy(&t->ifaces);
		free(t);
		return NULL;
	}
	return t;
}

static void free_strings(struct topo_iface *i)
{
	free((char *)i->host);
	free((char *)i->netns_name);
	free((char *)i->ifname);
	free((char *)i->kind);
}

static const char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

int topology_add(struct topology *t, const struct topo_iface *ifc)
{
	const char *host = ifc->host ? ifc->host : "", *ifname = ifc->ifname ? ifc->ifname : "";
	struct tnode *x = find(t, host, ifc->netns, ifc->ifindex, ifname);

	if (x) {
		/* a later block may know more (a name, a relation): keep what is known */
		if (!x->i.netns_name[0] && ifc->netns_name && ifc->netns_name[0]) {
			char *s = strdup(ifc->netns_name);

			if (!s)
				return -ENOMEM;
			free((char *)x->i.netns_name);
			x->i.netns_name = s;
			named_note(t, x);
		}
		if (!x->i.link_ifindex && ifc->link_ifindex) {
			x->i.link_ifindex = ifc->link_ifindex;
			x->i.link_netns = ifc->link_netns;
		}
		if (!x->i.master)
			x->i.master = ifc->master;
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct tnode **l = realloc(t->list, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		t->list = l;
		t->cap = cap;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->i = *ifc;
	x->i.host = dup_or_empty(ifc->host);
	x->i.netns_name = dup_or_empty(ifc->netns_name);
	x->i.ifname = dup_or_empty(ifc->ifname);
	x->i.kind = dup_or_empty(ifc->kind);
	if (!x->i.host || !x->i.netns_name || !x->i.ifname || !x->i.kind) {
		free_strings(&x->i);
		free(x);
		return -ENOMEM;
	}
	x->order = t->n;
	t->list[t->n++] = x;
	ht_insert(&t->ifaces, &x->by_key,
		  key_hash(x->i.host, x->i.netns, x->i.ifindex, x->i.ifname));
	if (x->i.netns_name[0])
		named_note(t, x);
	return 0;
}

void topology_free(struct topology *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free_strings(&t->list[i]->i);
		free(t->list[i]);
	}
	free(t->list);
	ht_destroy(&t->ifaces);
	ht_destroy(&t->named);
	free(t);
}

/* How a namespace is shown: its name, else its inode. Returns whether it has a name. */
static bool ns_label(const struct topology *t, const char *host, uint64_t netns, bool numeric,
		     char *buf, size_t cap)
{
	const struct tnode *x = numeric ? NULL : named_find(t, host, netns);
	const char *name = x ? x->i.netns_name : "";

	if (name[0])
		snprintf(buf, cap, "%s", name);
	else
		snprintf(buf, cap, "%" PRIu64, netns);
	return name[0] != 0;
}

/* Namespaces in order of first appearance, hosts grouped. */
static int ns_order(const void *a, const void *b)
{
	const struct tnode *x = *(struct tnode *const *)a, *y = *(struct tnode *const *)b;
	int c = strcmp(x->i.host, y->i.host);

	if (c)
		return c;
	if (x->i.netns != y->i.netns)
		return x->i.netns < y->i.netns ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

int topology_print(const struct topology *t, FILE *f, bool numeric)
{
	struct tnode **v = malloc((t->n ? t->n : 1) * sizeof(*v));
	const char *cur_host = NULL;
	uint64_t cur_ns = 0;
	bool first = true;

	if (!v)
		return -ENOMEM;
	memcpy(v, t->list, t->n * sizeof(*v));
	qsort(v, t->n, sizeof(*v), ns_order);
	for (size_t k = 0; k < t->n; k++) {
		const struct topo_iface *i = &v[k]->i;
		char label[96], other[160] = "";

		if (first || strcmp(cur_host, i->host) || cur_ns != i->netns) {
			if (!ns_label(t, i->host, i->netns, numeric, label, sizeof(label)))
				fprintf(f, "netns %" PRIu64 "%s%s\n", i->netns,
					i->host[0] ? " on " : "", i->host);
			else
				fprintf(f, "netns %s (%" PRIu64 ")%s%s\n", label, i->netns,
					i->host[0] ? " on " : "", i->host);
			cur_host = i->host;
			cur_ns = i->netns;
			first = false;
		}
		fprintf(f, "  %s", i->ifname[0] ? i->ifname : "-");
		if (i->ifindex)
			fprintf(f, " (ifindex %" PRIu32 ")", i->ifindex);
		if (i->kind[0])
			fprintf(f, " %s", i->kind);
		if (i->master) {
			const struct tnode *m = find(t, i->host, i->netns, i->master, "");

			if (m)
				fprintf(f, ", port of %s", m->i.ifname);
			else
				fprintf(f, ", port of ifindex %" PRIu32, i->master);
		}
		if (i->link_ifindex) {
			const char *what = !strcmp(i->kind, "veth") ? "peer"
					   : !strcmp(i->kind, "vxlan") ||
						   !strcmp(i->kind, "geneve") ||
						   !strncmp(i->kind, "gre", 3)
					       ? "over"
					       : "on";
			const struct tnode *o =
			    i->link_netns ? find(t, i->host, i->link_netns, i->link_ifindex, "")
					  : NULL;

			if (o) {
				ns_label(t, i->host, o->i.netns, numeric, label, sizeof(label));
				snprintf(other, sizeof(other), "%s@%s", o->i.ifname, label);
			} else if (i->link_netns) {
				ns_label(t, i->host, i->link_netns, numeric, label, sizeof(label));
				snprintf(other, sizeof(other), "ifindex %" PRIu32 "@%s",
					 i->link_ifindex, label);
			} else {
				snprintf(other, sizeof(other),
					 "ifindex %" PRIu32 " (namespace unknown)",
					 i->link_ifindex);
			}
			fprintf(f, ", %s %s", what, other);
		}
		if (i->has_vni)
			fprintf(f, ", vni %" PRIu32, i->vni);
		fputc('\n', f);
	}
	free(v);
	return ferror(f) ? -EIO : 0;
}
