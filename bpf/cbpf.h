/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A classic-BPF (pcap filter) interpreter for the eBPF side, so that a
 * pcap-filter expression compiled by libpcap (pcap_compile) runs in the
 * kernel: a packet that does not match never reaches the ring buffer.
 *
 * The same code is compiled into the user-space unit tests, which compare
 * it with libpcap's pcap_offline_filter() on many filters and packets.
 *
 * Semantics follow libpcap's bpf_filter(): a load beyond the captured bytes
 * rejects the packet, so does a division by zero; BPF_LEN is the wire
 * length. Shift counts are taken modulo 32 (eBPF's 32-bit shifts). Jumps
 * are forward only, so a program of n instructions runs at most n steps.
 *
 * Verifier: the program lives in .rodata (const volatile, frozen), so on
 * every path the verifier knows each instruction, follows the filter's
 * branches and proves the loop ends. A filter too complex for it fails to
 * load; pkt-record then filters in user space (same semantics).
 *
 * Needs: __u8/__u16/__u32 and __always_inline defined by the includer.
 */
#ifndef PKTREC_CBPF_H
#define PKTREC_CBPF_H

#define CBPF_MAX_INSNS 256 /* longer filters are run in user space */
#define CBPF_BUF_SIZE  512 /* power of two > 14 + PKTREC_MAX_SNAP */
#define CBPF_MEMWORDS  16

/* struct sock_filter / libpcap's struct bpf_insn, same layout */
struct cbpf_insn {
	__u16 code;
	__u8 jt;
	__u8 jf;
	__u32 k;
};

/* instruction classes and fields (linux/filter.h, pcap/bpf.h) */
#define CBPF_CLASS(c)  ((c)&0x07)
#define CBPF_LD	       0x00
#define CBPF_LDX       0x01
#define CBPF_ST	       0x02
#define CBPF_STX       0x03
#define CBPF_ALU       0x04
#define CBPF_JMP       0x05
#define CBPF_RET       0x06
#define CBPF_MISC      0x07
#define CBPF_SIZE(c)   ((c)&0x18)
#define CBPF_W	       0x00
#define CBPF_H	       0x08
#define CBPF_B	       0x10
#define CBPF_MODE(c)   ((c)&0xe0)
#define CBPF_IMM       0x00
#define CBPF_ABS       0x20
#define CBPF_IND       0x40
#define CBPF_MEM       0x60
#define CBPF_LEN       0x80
#define CBPF_MSH       0xa0
#define CBPF_OP(c)     ((c)&0xf0)
#define CBPF_SRC(c)    ((c)&0x08)
#define CBPF_X	       0x08
#define CBPF_RVAL(c)   ((c)&0x18)
#define CBPF_RA	       0x10
#define CBPF_MISCOP(c) ((c)&0xf8)
#define CBPF_TXA       0x80

/*
 * Load size bytes (1, 2 or 4, big-endian) at off from buf, whose first
 * buflen bytes are valid (buflen <= CBPF_BUF_SIZE). 0 and *val, or -1.
 */
static __always_inline int cbpf_load(const __u8 *buf, __u32 buflen, __u32 off, __u32 size,
				     __u32 *val)
{
	if (buflen > CBPF_BUF_SIZE || off >= buflen || size > buflen - off)
		return -1;
	off &= CBPF_BUF_SIZE - 1; /* already true; says so to the verifier */
	if (size == 1) {
		*val = buf[off];
		return 0;
	}
	if (off > CBPF_BUF_SIZE - 4)
		return -1;
	if (size == 2)
		*val = (__u32)buf[off] << 8 | buf[off + 1];
	else
		*val = (__u32)buf[off] << 24 | (__u32)buf[off + 1] << 16 |
		       (__u32)buf[off + 2] << 8 | buf[off + 3];
	return 0;
}

/*
 * Run prog (n instructions) on buf (buflen captured bytes of a frame of
 * wirelen bytes on the wire). Returns the filter's verdict: 0 = reject,
 * non-zero = accept (the snapshot length it asks for).
 */
static __always_inline __u32 cbpf_run(const volatile struct cbpf_insn *prog, __u32 n,
				      const __u8 *buf, __u32 buflen, __u32 wirelen)
{
	__u32 A = 0, X = 0, pc = 0;
	__u32 mem[CBPF_MEMWORDS] = {};

	for (int step = 0; step < CBPF_MAX_INSNS; step++) {
		if (pc >= n || pc >= CBPF_MAX_INSNS)
			return 0;
		__u16 code = prog[pc].code;
		__u32 k = prog[pc].k;
		__u8 jt = prog[pc].jt, jf = prog[pc].jf;
		__u32 v, size;

		pc++;
		switch (CBPF_CLASS(code)) {
		case CBPF_LD:
		case CBPF_LDX:
			size = CBPF_SIZE(code) == CBPF_W ? 4 : CBPF_SIZE(code) == CBPF_H ? 2 : 1;
			switch (CBPF_MODE(code)) {
			case CBPF_IMM:
				v = k;
				break;
			case CBPF_LEN:
				v = wirelen;
				break;
			case CBPF_MEM:
				v = mem[k & (CBPF_MEMWORDS - 1)];
				break;
			case CBPF_ABS:
				if (cbpf_load(buf, buflen, k, size, &v))
					return 0;
				break;
			case CBPF_IND:
				if (k + X < k || cbpf_load(buf, buflen, k + X, size, &v))
					return 0;
				break;
			case CBPF_MSH:
				if (cbpf_load(buf, buflen, k, 1, &v))
					return 0;
				v = (v & 0xf) << 2;
				break;
			default:
				return 0;
			}
			if (CBPF_CLASS(code) == CBPF_LD)
				A = v;
			else
				X = v;
			break;
		case CBPF_ST:
			mem[k & (CBPF_MEMWORDS - 1)] = A;
			break;
		case CBPF_STX:
			mem[k & (CBPF_MEMWORDS - 1)] = X;
			break;
		case CBPF_ALU:
			v = CBPF_SRC(code) == CBPF_X ? X : k;
			switch (CBPF_OP(code)) {
			case 0x00:
				A += v;
				break;
			case 0x10:
				A -= v;
				break;
			case 0x20:
				A *= v;
				break;
			case 0x30:
				if (!v)
					return 0;
				A /= v;
				break;
			case 0x90:
				if (!v)
					return 0;
				A %= v;
				break;
			case 0x40:
				A |= v;
				break;
			case 0x50:
				A &= v;
				break;
			case 0xa0:
				A ^= v;
				break;
			case 0x60:
				A <<= (v & 31);
				break;
			case 0x70:
				A >>= (v & 31);
				break;
			case 0x80:
				A = -A;
				break;
			default:
				return 0;
			}
			break;
		case CBPF_JMP: {
			bool taken;

			v = CBPF_SRC(code) == CBPF_X ? X : k;
			switch (CBPF_OP(code)) {
			case 0x00: /* ja: k is the offset */
				pc += k;
				continue;
			case 0x10:
				taken = A == v;
				break;
			case 0x20:
				taken = A > v;
				break;
			case 0x30:
				taken = A >= v;
				break;
			case 0x40:
				taken = (A & v) != 0;
				break;
			default:
				return 0;
			}
			pc += taken ? jt : jf;
			break;
		}
		case CBPF_RET:
			return CBPF_RVAL(code) == CBPF_RA ? A : CBPF_RVAL(code) == CBPF_X ? X : k;
		case CBPF_MISC:
			if (CBPF_MISCOP(code) == CBPF_TXA)
				A = X;
			else
				X = A;
			break;
		}
	}
	return 0;
}

/*
 * How many frame bytes instruction code loads at its offset k: 1, 2 or 4;
 * 0 when it loads no frame byte at a fixed offset (not a load, or an
 * immediate, memory or length load); -1 at a computed offset (BPF_IND).
 */
static inline int cbpf_load_width(__u16 code)
{
	if (CBPF_CLASS(code) != CBPF_LD && CBPF_CLASS(code) != CBPF_LDX)
		return 0;
	switch (CBPF_MODE(code)) {
	case CBPF_ABS:
		return CBPF_SIZE(code) == CBPF_W ? 4 : CBPF_SIZE(code) == CBPF_H ? 2 : 1;
	case CBPF_MSH:
		return 1;
	case CBPF_IND:
		return -1;
	default:
		return 0;
	}
}

/*
 * How many leading bytes of the frame prog can ever read (loads at a fixed
 * offset), or 0xffffffff when it loads at a computed one (BPF_IND). Two
 * frames that agree on those bytes, on the captured length and on the wire
 * length get the same verdict: the kernel side reuses a verdict for the
 * next hits of an unchanged packet instead of running the filter again.
 */
static inline __u32 cbpf_read_extent(const struct cbpf_insn *prog, __u32 n)
{
	__u32 extent = 0;

	for (__u32 i = 0; i < n; i++) {
		int size = cbpf_load_width(prog[i].code);
		__u32 end;

		if (size < 0)
			return 0xffffffff;
		if (!size)
			continue;
		end = prog[i].k + (__u32)size;
		if (end < prog[i].k)
			return 0xffffffff;
		if (end > extent)
			extent = end;
	}
	return extent;
}

/*
 * The bytes of the frame prog can ever read, as a byte mask (0xff: read)
 * over its first mask_len bytes: 0, or -1 when it loads at a computed
 * offset (BPF_IND: any byte; mask left unset). Two frames that agree on
 * these bytes, on the captured length and on the wire length get the same
 * verdict: a load past the capture fails whatever the bytes. Finer than
 * cbpf_read_extent(): `icmp` reads bytes 12, 13 and 23 of its 24, and a
 * flood's IP ids and checksums differ in the others.
 */
static inline int cbpf_read_mask(const struct cbpf_insn *prog, __u32 n, __u8 *mask, __u32 mask_len)
{
	for (__u32 k = 0; k < mask_len; k++)
		mask[k] = 0;
	for (__u32 i = 0; i < n; i++) {
		int size = cbpf_load_width(prog[i].code);

		if (size < 0)
			return -1;
		/* bytes at or past mask_len are never captured: no mark needed */
		for (__u32 k = 0; k < (__u32)size; k++)
			if (prog[i].k < mask_len && k < mask_len - prog[i].k)
				mask[prog[i].k + k] = 0xff;
	}
	return 0;
}

#endif
