/* SPDX-License-Identifier: MIT */
/*
 * Names of network namespaces, as people know them: the `ip netns` name
 * (bind mounts under /run/netns), else the container or pod of a process
 * inside (from its cgroup path), else the last component of another nsfs
 * mount point (a runtime's own), else the first process's comm and pid;
 * the initial namespace is "host".
 *
 * Resolved when recording, so that the file carries them and the analysis
 * works where none of these namespaces exist.
 */
#ifndef PKT_NAMES_H
#define PKT_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define NETNS_NAME_LEN 64

enum netns_name_kind {
	NETNS_NAME_NONE = 0,  /* nothing known */
	NETNS_NAME_HOST,      /* the initial namespace */
	NETNS_NAME_NETNS,     /* an `ip netns` name or another nsfs mount */
	NETNS_NAME_CONTAINER, /* docker, containerd, cri-o, podman, nspawn */
	NETNS_NAME_POD,	      /* a Kubernetes pod */
	NETNS_NAME_PROCESS,   /* comm[pid] of the first process inside */
};

struct netns_name {
	enum netns_name_kind kind;
	char name[NETNS_NAME_LEN]; /* "pkt-a-79e2", "docker:3f2a1b4c5d6e", "ping[2570]" */
};

struct netns_names;

/*
 * proc_root: "/proc" (a fake tree in tests); netns_dir: "/run/netns".
 * Returns 0 or -ENOMEM.
 */
int netns_names_new(struct netns_names **out, const char *proc_root, const char *netns_dir);
/*
 * Scan everything once more (at start, and when an unknown namespace
 * appears: the caller rate-limits). Returns the number of namespaces known.
 */
int netns_names_scan(struct netns_names *nn);
/* The name of a namespace inode; kind NETNS_NAME_NONE if unknown. */
struct netns_name netns_names_get(const struct netns_names *nn, uint64_t inode);
/*
 * Every namespace known, with a path that opens it (an nsfs mount, or
 * /proc/PID/ns/net of a process inside), in no particular order.
 */
void netns_names_for_each(const struct netns_names *nn,
			  void (*fn)(uint64_t inode, const struct netns_name *n, const char *path,
				     void *ctx),
			  void *ctx);
void netns_names_free(struct netns_names *nn);

/* The kind word used in files: "host", "netns", "container", "pod", "process". */
const char *netns_name_kind_str(enum netns_name_kind k);

/*
 * The container or pod a process belongs to, from the text of its
 * /proc/PID/cgroup. Returns 1 and fills *out when one is recognised, else 0.
 * Patterns: docker-ID.scope, /docker/ID, cri-containerd-ID.scope,
 * crio-ID.scope, libpod-ID.scope, machine-NAME.scope (systemd-nspawn),
 * kubepods...podUID (the pod wins over its containers).
 */
int netns_name_from_cgroup(const char *cgroup_text, struct netns_name *out);

#endif
