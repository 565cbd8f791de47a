// SPDX-License-Identifier: MIT
#include "graph.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hashtab.h"

/* One box per (host, netns), one node per interface in it. */
struct gnode {
	struct ht_node node;
	const char *host, *ifname;
	uint64_t netns;
	unsigned id, box;
};

struct gbox {
	struct ht_node node;
	const char *host, *netns_name;
	uint64_t netns;
	unsigned id;
};

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* A DOT double-quoted string: only '"' and '\' need escaping; control bytes become '?'. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fputc('\\', f);
		fputc(c < 0x20 ? '?' : c, f);
	}
	fputc('"', f);
}

static uint64_t box_hash(const char *host, uint64_t netns)
{
	return ht_hash_add(ht_hash_str(0, host), netns);
}

static struct gbox *box_get(struct hashtab *t, const struct graph_hop *h, unsigned *count)
{
	uint64_t hash = box_hash(nz(h->host), h->netns);

	for (struct ht_node *n = ht_find_first(t, hash); n; n = ht_find_next(n)) {
		struct gbox *b = ht_entry(n, struct gbox, node);

		if (b->netns == h->netns && !strcmp(b->host, nz(h->host))) {
			if (!b->netns_name[0] && h->netns_name)
				b->netns_name = h->netns_name;
			return b;
		}
	}
	struct gbox *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->host = nz(h->host);
	b->netns = h->netns;
	b->netns_name = nz(h->netns_name);
	b->id = (*count)++;
	ht_insert(t, &b->node, hash);
	return b;
}

static struct gnode *node_get(struct hashtab *t, const struct graph_hop *h, unsigned box,
			      unsigned *count)
{
	uint64_t hash = ht_hash_str(box_hash(nz(h->host), h->netns), nz(h->ifname));

	for (struct ht_node *n = ht_find_first(t, hash); n; n = ht_find_next(n)) {
		struct gnode *g = ht_entry(n, struct gnode, node);

		if (g->netns == h->netns && !strcmp(g->host, nz(h->host)) &&
		    !strcmp(g->ifname, nz(h->ifname)))
			return g;
	}
	struct gnode *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->host = nz(h->host);
	g->ifname = nz(h->ifname);
	g->netns = h->netns;
	g->box = box;
	g->id = (*count)++;
	ht_insert(t, &g->node, hash);
	return g;
}

/* A node made in the first pass. */
static const struct gnode *node_find(struct hashtab *t, const struct graph_hop *h)
{
	unsigned unused = 0;

	return node_get(t, h, 0, &unused);
}

static void free_box(struct ht_node *n, void *ctx)
{
	(void)ctx;
	free(ht_entry(n, struct gbox, node));
}

static void free_node(struct ht_node *n, void *ctx)
{
	(void)ctx;
	free(ht_entry(n, struct gnode, node));
}

static void fmt_latency(int64_t ns, char *buf, size_t cap)
{
	if (ns < 0)
		snprintf(buf, cap, "-%" PRId64 " ns", -ns);
	else if (ns < 10000)
		snprintf(buf, cap, "+%" PRId64 " ns", ns);
	else if (ns < 10000000)
		snprintf(buf, cap, "+%.1f us", (double)ns / 1e3);
	else
		snprintf(buf, cap, "+%.1f ms", (double)ns / 1e6);
}

struct emit_ctx {
	FILE *f;
	unsigned box;
	bool numeric;
	const struct hashtab *nodes;
};

static void emit_node_if_in_box(struct ht_node *n, void *ctx)
{
	struct emit_ctx *e = ctx;
	struct gnode *g = ht_entry(n, struct gnode, node);

	if (g->box != e->box)
		return;
	fprintf(e->f, "    n%u [label=", g->id);
	put_quoted(e->f, g->ifname[0] ? g->ifname : "-");
	fprintf(e->f, "];\n");
}

struct box_list {
	struct gbox **v;
	size_t n;
};

static void collect_box(struct ht_node *n, void *ctx)
{
	struct box_list *l = ctx;

	l->v[l->n++] = ht_entry(n, struct gbox, node);
}

static int by_box_id(const void *a, const void *b)
{
	const struct gbox *x = *(struct gbox *const *)a, *y = *(struct gbox *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int graph_write_dot(FILE *f, const char *title, const struct graph_path *paths, size_t npaths,
		    bool numeric)
{
	static const char *colors[] = {"#1f5fbf", "#2e8b3e", "#b8611a", "#7a3fb0"};
	struct hashtab boxes, nodes;
	unsigned nboxes = 0, nnodes = 0;
	int rc = 0;

	if (ht_init(&boxes, 16) || ht_init(&nodes, 32)) {
		ht_destroy(&boxes);
		return -ENOMEM;
	}
	/* first pass: boxes and nodes, numbered in order of first appearance */
	for (size_t p = 0; p < npaths && !rc; p++)
		for (size_t i = 0; i < paths[p].nhops && !rc; i++) {
			struct gbox *b = box_get(&boxes, &paths[p].hops[i], &nboxes);

			if (!b || !node_get(&nodes, &paths[p].hops[i], b->id, &nnodes))
				rc = -ENOMEM;
		}
	if (rc)
		goto cleanup;

	fprintf(f, "digraph pkt_path {\n  rankdir=LR;\n  compound=true;\n");
	fprintf(f, "  node [shape=box, style=\"rounded,filled\", fillcolor=white, "
		   "fontname=\"monospace\"];\n");
	if (title && *title) {
		fprintf(f, "  labelloc=t;\n  label=");
		put_quoted(f, title);
		fprintf(f, ";\n");
	}
	struct box_list bl = {calloc(nboxes ? nboxes : 1, sizeof(*bl.v)), 0};

	if (!bl.v) {
		rc = -ENOMEM;
		goto cleanup;
	}
	ht_for_each(&boxes, collect_box, &bl);
	qsort(bl.v, bl.n, sizeof(*bl.v), by_box_id);
	for (size_t i = 0; i < bl.n; i++) {
		const struct gbox *b = bl.v[i];
		char label[160];

		if (numeric || !b->netns_name[0])
			snprintf(label, sizeof(label), "netns %" PRIu64 "%s%s", b->netns,
				 b->host[0] ? " on " : "", b->host);
		else
			snprintf(label, sizeof(label), "%s (%" PRIu64 ")%s%s", b->netns_name,
				 b->netns, b->host[0] ? " on " : "", b->host);
		fprintf(f,
			"  subgraph cluster_%u {\n    style=\"rounded,filled\";\n"
			"    fillcolor=\"#f2f2f2\";\n    label=",
			b->id);
		put_quoted(f, label);
		fprintf(f, ";\n");
		struct emit_ctx e = {f, b->id, numeric, &nodes};

		ht_for_each(&nodes, emit_node_if_in_box, &e);
		fprintf(f, "  }\n");
	}
	free(bl.v);

	/* edges: each move to another interface, numbered along its path */
	for (size_t p = 0; p < npaths; p++) {
		const char *color = colors[p % (sizeof(colors) / sizeof(colors[0]))];
		const struct graph_hop *hops = paths[p].hops;
		unsigned step = 0;

		for (size_t i = 1; i < paths[p].nhops; i++) {
			const struct gnode *a = node_find(&nodes, &hops[i - 1]);
			const struct gnode *b = node_find(&nodes, &hops[i]);
			char lat[32], label[96];

			if (!a || !b || a == b)
				continue; /* another hook at the same interface */
			fmt_latency((int64_t)(hops[i].ts_ns - hops[i - 1].ts_ns), lat, sizeof(lat));
			snprintf(label, sizeof(label), "%s%s%u  %s",
				 paths[p].label ? paths[p].label : "", paths[p].label ? " " : "",
				 ++step, lat);
			fprintf(f, "  n%u -> n%u [color=\"%s\", fontcolor=\"%s\", label=", a->id,
				b->id, color, color);
			put_quoted(f, label);
			fprintf(f, "];\n");
		}
	}
	fprintf(f, "}\n");
	if (ferror(f))
		rc = -EIO;
cleanup:
	ht_for_each(&boxes, free_box, NULL);
	ht_for_each(&nodes, free_node, NULL);
	ht_destroy(&boxes);
	ht_destroy(&nodes);
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Run `dot -Tsvg -o path` with text on its standard input. */
static int render_svg(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	int in[2], status;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -EIO;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		return -EIO;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		execlp("dot", "dot", "-Tsvg", "-o", path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(in[1], text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* dot exited early: its status says why */
		off += (size_t)n;
	}
	close(in[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return -EIO;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		snprintf(err, errlen,
			 "%s: Graphviz's dot not found (install graphviz, or write .dot)", path);
		return -ENOENT;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, errlen, "%s: dot failed to render the graph", path);
		return -EIO;
	}
	return 0;
}

int graph_write_file(const char *path, const char *title, const struct graph_path *paths,
		     size_t npaths, bool numeric, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	int rc;

	if (!ends_with(path, ".svg") && !ends_with(path, ".dot")) {
		snprintf(err, errlen, "%s: --graph writes FILE.svg or FILE.dot", path);
		return -EINVAL;
	}
	m = open_memstream(&text, &len);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = graph_write_dot(m, title, paths, npaths, numeric);
	if (fclose(m) || rc) {
		free(text);
		snprintf(err, errlen, "cannot build the graph: %s", strerror(rc ? -rc : ENOMEM));
		return rc ? rc : -ENOMEM;
	}
	if (ends_with(path, ".svg")) {
		rc = render_svg(path, text, len, err, errlen);
	} else {
		FILE *f = fopen(path, "w");

		rc = 0;
		if (!f || fwrite(text, 1, len, f) != len) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = -EIO;
		}
		if (f && fclose(f) && !rc) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = -EIO;
		}
	}
	free(text);
	return rc;
}
