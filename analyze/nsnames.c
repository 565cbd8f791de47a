// SPDX-License-Identifier: MIT
#include "nsnames.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hashtab.h"
#include "topology.h"
#include "trace.h"

struct ns_entry {
	struct ht_node node;
	uint32_t source;
	uint64_t netns;
	char name[64];
};

/* interfaces already given to the topology, by (source, IDB name) */
struct if_seen {
	struct ht_node node;
	uint32_t source;
	char if_name[];
};

struct nsnames {
	struct hashtab names;
	struct hashtab seen;
	struct topology *topo;
};

static uint64_t ns_hash(uint32_t source, uint64_t netns)
{
	return ht_hash_add(ht_hash64(source), netns);
}

static struct ns_entry *find(const struct nsnames *nn, uint32_t source, uint64_t netns)
{
	for (struct ht_node *h = ht_find_first(&nn->names, ns_hash(source, netns)); h;
	     h = ht_find_next(h)) {
		struct ns_entry *e = ht_entry(h, struct ns_entry, node);

		if (e->source == source && e->netns == netns)
			return e;
	}
	return NULL;
}

struct nsnames *nsnames_new(struct topology *topo)
{
	struct nsnames *nn = calloc(1, sizeof(*nn));

	if (!nn)
		return NULL;
	if (ht_init(&nn->names, 16) || ht_init(&nn->seen, 16)) {
		ht_destroy(&nn->names);
		free(nn);
		return NULL;
	}
	nn->topo = topo;
	return nn;
}

/* An interface for --topology, once per (source, IDB name). */
static int note_topology(struct nsnames *nn, uint32_t source, const char *if_name, uint64_t netns,
			 uint32_t ifindex, const char *host, const struct trace_if_attrs *at)
{
	char ifname[64];
	uint64_t h = ht_hash_str(ht_hash64(source), if_name), ns = 0;

	for (struct ht_node *n = ht_find_first(&nn->seen, h); n; n = ht_find_next(n)) {
		struct if_seen *s = ht_entry(n, struct if_seen, node);

		if (s->source == source && !strcmp(s->if_name, if_name))
			return 0;
	}
	size_t len = strlen(if_name);
	struct if_seen *s = malloc(sizeof(*s) + len + 1);

	if (!s)
		return -ENOMEM;
	s->source = source;
	memcpy(s->if_name, if_name, len + 1);
	ht_insert(&nn->seen, &s->node, h);
	if (trace_if_name_split(if_name, ifname, sizeof(ifname), &ns) < 0) {
		snprintf(ifname, sizeof(ifname), "%s", if_name);
		ns = netns;
	}
	struct topo_iface ti = {
	    .host = host,
	    .netns = netns ? netns : ns,
	    .netns_name = at->netns_name,
	    .ifname = ifname,
	    .ifindex = ifindex,
	    .kind = at->kind,
	    .link_ifindex = at->link_ifindex,
	    .link_netns = at->link_netns,
	    .master = at->master,
	    .vni = at->vni,
	    .has_vni = at->has_vni,
	};
	return topology_add(nn->topo, &ti);
}

int nsnames_note(struct nsnames *nn, uint32_t source, const char *if_name, const char *desc)
{
	uint64_t netns = 0;
	uint32_t ifindex = 0;
	const char *host = "";
	struct trace_if_attrs at;
	bool ours = desc && trace_if_description_parse(desc, &netns, &ifindex, &host) == 0;

	/* the common case, an interface already named or a file without names: no parse */
	if (!nn->topo && (!ours || !strstr(desc, "netns_name=") || find(nn, source, netns)))
		return 0;
	trace_if_attrs_parse(ours ? desc : "", &at);
	if (nn->topo) {
		int rc = note_topology(nn, source, if_name ? if_name : "", netns, ifindex,
				       ours ? host : "", &at);
		if (rc)
			return rc;
	}
	if (!at.netns_name[0] || find(nn, source, netns))
		return 0;
	struct ns_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->source = source;
	e->netns = netns;
	snprintf(e->name, sizeof(e->name), "%s", at.netns_name);
	ht_insert(&nn->names, &e->node, ns_hash(source, netns));
	return 0;
}

const char *nsnames_get(const struct nsnames *nn, uint32_t source, uint64_t netns)
{
	const struct ns_entry *e = nn ? find(nn, source, netns) : NULL;

	return e ? e->name : NULL;
}

static void free_name(struct ht_node *h, void *ctx)
{
	(void)ctx;
	free(ht_entry(h, struct ns_entry, node));
}

static void free_seen(struct ht_node *h, void *ctx)
{
	(void)ctx;
	free(ht_entry(h, struct if_seen, node));
}

void nsnames_free(struct nsnames *nn)
{
	if (!nn)
		return;
	ht_for_each(&nn->names, free_name, NULL);
	ht_for_each(&nn->seen, free_seen, NULL);
	ht_destroy(&nn->names);
	ht_destroy(&nn->seen);
	free(nn);
}
