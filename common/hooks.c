// SPDX-License-Identifier: MIT
#include "hooks.h"

#include <string.h>

#define HOOK(id, group, tp, dir, dflt, kind, entry)                                               \
	{#group ":" #tp, #tp, PKT_HOOK_DIR_##dir, dflt, PKT_HOOK_KIND_##kind, entry},
const struct pkt_hook_info pkt_hooks[] = {
#include "hooks.def"
};
#undef HOOK

const unsigned pkt_hooks_count = sizeof(pkt_hooks) / sizeof(pkt_hooks[0]);

int pkt_hook_index(const char *name)
{
	for (unsigned i = 0; i < pkt_hooks_count; i++)
		if (!strcmp(name, pkt_hooks[i].name) || !strcmp(name, pkt_hooks[i].tp))
			return (int)i;
	return -1;
}

enum pkt_hook_kind pkt_hook_kind(const char *name)
{
	/* only full names: a foreign comment's bare word is not one of ours */
	for (unsigned i = 0; i < pkt_hooks_count; i++)
		if (!strcmp(name, pkt_hooks[i].name))
			return pkt_hooks[i].kind;
	return PKT_HOOK_KIND_UNKNOWN;
}
