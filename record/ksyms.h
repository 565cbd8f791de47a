/* SPDX-License-Identifier: MIT */
/*
 * Kernel text addresses -> SYMBOL+0xOFF, from /proc/kallsyms: loaded once,
 * a sorted array searched by bisection. Where kallsyms shows every address
 * as zero (kernel.kptr_restrict, no CAP_SYSLOG) there is nothing to resolve
 * with: ksyms_load() says so with -ENODATA.
 */
#ifndef PKT_RECORD_KSYMS_H
#define PKT_RECORD_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksyms;

/* Parse kallsyms text (len bytes, NUL not needed). 0, -ENOMEM, or -ENODATA (no addresses). */
int ksyms_parse(struct ksyms **out, const char *text, size_t len);
/* Read and parse a kallsyms file; on error err says why. */
int ksyms_load(struct ksyms **out, const char *path, char *err, size_t errlen);
/*
 * "SYMBOL+0xOFF" for a text address into buf: its length, -ENOENT when no
 * text symbol is at or below addr, -ENOSPC when buf is too small.
 */
int ksyms_format(const struct ksyms *ks, uint64_t addr, char *buf, size_t cap);
void ksyms_free(struct ksyms *ks);

#endif
