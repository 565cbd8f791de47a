// SPDX-License-Identifier: MIT
#include "links.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

struct parse_ctx {
	struct link_info li;
	int32_t link_nsid; /* IFLA_LINK_NETNSID, -1 if absent */
	uint32_t tunnel_link;
};

static void copy_attr_str(char *dst, size_t cap, const struct nlattr *a)
{
	const char *s = mnl_attr_get_str(a);
	size_t n = mnl_attr_get_payload_len(a);
	size_t j = 0;

	for (size_t i = 0; i < n && s[i] && j + 1 < cap; i++)
		dst[j++] = s[i];
	dst[j] = 0;
}

static int u32_attr(const struct nlattr *a, uint32_t *v)
{
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return -1;
	*v = mnl_attr_get_u32(a);
	return 0;
}

/* IFLA_INFO_DATA of the tunnel kinds: the VNI and the underlay device */
static int info_data_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *pc = data;
	const char *kind = pc->li.at.kind;
	uint16_t type = mnl_attr_get_type(a);
	uint32_t v;

	if (!strcmp(kind, "vxlan")) {
		if (type == IFLA_VXLAN_ID && !u32_attr(a, &v)) {
			pc->li.at.vni = v;
			pc->li.at.has_vni = 1;
		} else if (type == IFLA_VXLAN_LINK && !u32_attr(a, &v)) {
			pc->tunnel_link = v;
		}
	} else if (!strcmp(kind, "geneve")) {
		if (type == IFLA_GENEVE_ID && !u32_attr(a, &v)) {
			pc->li.at.vni = v;
			pc->li.at.has_vni = 1;
		}
	} else if (!strncmp(kind, "gre", 3) || !strncmp(kind, "ip6gre", 6) ||
		   !strcmp(kind, "erspan") || !strcmp(kind, "ip6erspan")) {
		if (type == IFLA_GRE_LINK && !u32_attr(a, &v))
			pc->tunnel_link = v;
	}
	return MNL_CB_OK;
}

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *pc = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
		copy_attr_str(pc->li.at.kind, sizeof(pc->li.at.kind), a);
	return MNL_CB_OK;
}

static int linkinfo_data_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_INFO_DATA && mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0)
		mnl_attr_parse_nested(a, info_data_cb, data);
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *pc = data;
	uint32_t v;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
			copy_attr_str(pc->li.name, sizeof(pc->li.name), a);
		break;
	case IFLA_MASTER:
		if (!u32_attr(a, &v))
			pc->li.at.master = v;
		break;
	case IFLA_LINK:
		if (!u32_attr(a, &v))
			pc->li.at.link_ifindex = v;
		break;
	case IFLA_LINK_NETNSID:
		if (!u32_attr(a, &v))
			pc->link_nsid = (int32_t)v;
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0) {
			/* the kind first: IFLA_INFO_DATA is read according to it */
			mnl_attr_parse_nested(a, linkinfo_cb, pc);
			mnl_attr_parse_nested(a, linkinfo_data_cb, pc);
		}
		break;
	}
	return MNL_CB_OK;
}

/*
 * One namespace's dump. Resolving peers waits until the dump is over: the
 * kernel gives a peer namespace its id while it fills IFLA_LINK_NETNSID,
 * so an id asked for before the dump may not exist yet.
 */
struct scan {
	uint64_t netns;
	struct parse_ctx *links;
	size_t n, cap;
	int nomem;
};

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct scan *s = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct parse_ctx pc = {.link_nsid = -1};

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return MNL_CB_OK;
	pc.li.netns = s->netns;
	pc.li.ifindex = (uint32_t)ifm->ifi_index;
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, &pc);
	if (pc.tunnel_link)
		pc.li.at.link_ifindex = pc.tunnel_link;
	if (pc.li.at.link_ifindex == pc.li.ifindex && pc.link_nsid < 0)
		pc.li.at.link_ifindex = 0; /* a device that names itself (ipip's fallback) */
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct parse_ctx *v = realloc(s->links, cap * sizeof(*v));

		if (!v) {
			s->nomem = 1;
			return MNL_CB_ERROR;
		}
		s->links = v;
		s->cap = cap;
	}
	s->links[s->n++] = pc;
	return MNL_CB_OK;
}

/* Send one request and run cb on every reply message until the dump or ack ends. */
static int talk(struct mnl_socket *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned portid = mnl_socket_get_portid(nl);
	int rc;

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		rc = mnl_cb_run(buf, (size_t)n, req->nlmsg_seq, portid, cb, data);
		if (rc < 0)
			return -errno;
		if (rc == MNL_CB_STOP)
			return 0;
	}
}

static int nsid_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct rtgenmsg))
	{
		if (mnl_attr_get_type(a) == NETNSA_NSID && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			*(int32_t *)data = (int32_t)mnl_attr_get_u32(a);
	}
	return MNL_CB_OK;
}

/* Namespace fd's id as seen from nl's namespace, -1 if it has none. */
static int32_t nsid_of_fd(struct mnl_socket *nl, int fd, unsigned seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtgenmsg *g;
	int32_t id = -1;

	nlh->nlmsg_type = RTM_GETNSID;
	/* the ack ends the exchange: a plain request's reply has no NLMSG_DONE */
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NETNSA_FD, (uint32_t)fd);
	if (talk(nl, nlh, nsid_msg_cb, &id) < 0)
		return -1;
	return id;
}

/* A route netlink socket inside the namespace of fd (the thread returns to home). */
static struct mnl_socket *socket_in(int fd, int home, char *err, size_t errlen)
{
	struct mnl_socket *nl = NULL;

	if (setns(fd, CLONE_NEWNET) < 0) {
		snprintf(err, errlen, "cannot enter a network namespace: %s", strerror(errno));
		return NULL;
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		nl = NULL;
	}
	if (!nl)
		snprintf(err, errlen, "rtnetlink socket: %s", strerror(errno));
	if (setns(home, CLONE_NEWNET) < 0) {
		/* cannot happen for a process that could leave: say so rather than go on elsewhere
		 */
		snprintf(err, errlen, "cannot return to the starting network namespace: %s",
			 strerror(errno));
		if (nl)
			mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

int links_scan(const int *fds, const uint64_t *inodes, size_t n,
	       void (*fn)(const struct link_info *li, void *ctx), void *ctx, char *err,
	       size_t errlen)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int32_t *nsid_of = calloc(n ? n : 1, sizeof(*nsid_of));
	unsigned seq = (unsigned)time(NULL);
	int total = 0, rc = 0;

	if (home < 0 || !nsid_of) {
		snprintf(err, errlen, "cannot open this network namespace: %s", strerror(errno));
		rc = home < 0 ? -errno : -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		struct mnl_socket *nl = socket_in(fds[i], home, err, errlen);
		struct nlmsghdr *nlh;
		struct ifinfomsg *ifm;
		struct scan s = {.netns = inodes[i]};

		if (!nl) {
			rc = -EIO;
			goto cleanup;
		}
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_GETLINK;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = ++seq;
		ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
		ifm->ifi_family = AF_UNSPEC;
		rc = talk(nl, nlh, link_msg_cb, &s);
		if (rc < 0 || s.nomem) {
			mnl_socket_close(nl);
			free(s.links);
			snprintf(err, errlen, "rtnetlink link dump: %s",
				 strerror(s.nomem ? ENOMEM : -rc));
			rc = s.nomem ? -ENOMEM : rc;
			goto cleanup;
		}
		bool need_ids = false;
		for (size_t k = 0; k < s.n; k++)
			need_ids |= s.links[k].link_nsid >= 0;
		for (size_t j = 0; j < n; j++)
			nsid_of[j] = j == i || !need_ids ? -1 : nsid_of_fd(nl, fds[j], ++seq);
		mnl_socket_close(nl);
		for (size_t k = 0; k < s.n; k++) {
			struct link_info *li = &s.links[k].li;

			if (li->at.link_ifindex && s.links[k].link_nsid < 0)
				li->at.link_netns = li->netns;
			for (size_t j = 0;
			     li->at.link_ifindex && s.links[k].link_nsid >= 0 && j < n; j++)
				if (j != i && nsid_of[j] == s.links[k].link_nsid)
					li->at.link_netns = inodes[j];
			fn(li, ctx);
		}
		total += (int)s.n;
		free(s.links);
	}
	rc = total;
cleanup:
	if (home >= 0)
		close(home);
	free(nsid_of);
	return rc;
}
