// SPDX-License-Identifier: MIT
#include "test.h"
#include "hooks.h"
#include <linux/types.h>
#include "pktrec.h"

TEST(hooks_table_matches_enum)
{
	ASSERT_EQ(pkt_hooks_count, HOOK_MAX, "one table row per enum value");
	ASSERT_STREQ(pkt_hooks[HOOK_NETIF_RX].name, "net:netif_rx", "name of HOOK_NETIF_RX");
	ASSERT_STREQ(pkt_hooks[HOOK_KFREE_SKB].tp, "kfree_skb", "tracepoint of HOOK_KFREE_SKB");
	ASSERT_EQ(pkt_hook_index("netif_receive_skb"), HOOK_NETIF_RECEIVE_SKB, "by tracepoint");
	ASSERT_EQ(pkt_hook_index("skb:consume_skb"), HOOK_CONSUME_SKB, "by full name");
	ASSERT_EQ(pkt_hook_index("net:nope"), -1, "unknown name");
	ASSERT_EQ(pkt_hook_kind("skb:kfree_skb"), PKT_HOOK_KIND_FREE_DROP, "kfree_skb drops");
	ASSERT_EQ(pkt_hook_kind("net:net_dev_start_xmit"), PKT_HOOK_KIND_TX, "start_xmit sends");
	ASSERT_EQ(pkt_hook_kind("kfree_skb"), PKT_HOOK_KIND_UNKNOWN, "bare words are not ours");
	for (unsigned i = 0; i < pkt_hooks_count; i++)
		ASSERT_TRUE(pkt_hooks[i].kind != PKT_HOOK_KIND_UNKNOWN, "every hook has a kind");
}

/* the BPF side's hook sets (pktrec.h) say what the user-space table says */
TEST(hooks_bpf_sets_match_table)
{
	for (unsigned i = 0; i < pkt_hooks_count; i++) {
		bool tx = pkt_hooks[i].kind == PKT_HOOK_KIND_TX;

		ASSERT_EQ(PKTREC_HOOKS_TX >> i & 1, tx, pkt_hooks[i].name);
		ASSERT_EQ(PKTREC_HOOKS_FREE >> i & 1, pkt_hook_kind_is_free(pkt_hooks[i].kind),
			  pkt_hooks[i].name);
		ASSERT_EQ(PKTREC_HOOKS_ENTRY >> i & 1, pkt_hooks[i].entry, pkt_hooks[i].name);
		ASSERT_EQ(PKTREC_HOOKS_DEFAULT >> i & 1, pkt_hooks[i].dflt, pkt_hooks[i].name);
	}
	ASSERT_EQ(PKTREC_HOOKS_ALL, (1u << pkt_hooks_count) - 1, "every hook");
	/* today's sets, spelled out: the table is what makes them */
	ASSERT_EQ(PKTREC_HOOKS_TX, 1u << HOOK_NET_DEV_QUEUE | 1u << HOOK_NET_DEV_START_XMIT,
		  "transmit hooks");
	ASSERT_EQ(PKTREC_HOOKS_FREE, 1u << HOOK_KFREE_SKB | 1u << HOOK_CONSUME_SKB, "free hooks");
}
