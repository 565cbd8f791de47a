-- SPDX-License-Identifier: MIT
--
-- pktrec.lua: Wireshark/tshark postdissector for pkt-record captures.
--
-- pkt-record writes one EPB per tracepoint hit, each with an opt_comment
--
--   hook=net:netif_rx netns=4026532328 if=eth0 ifindex=7 skb=0xffff... \
--   track=0x2a cpu=1 pid=2570 comm=ping [drop=NETFILTER_DROP] [l2=synth]
--   [loc=nf_hook_slow+0x9c] [head=0xffff...] ...
--
-- (space-separated key=value pairs, the first nine always in this order,
-- values percent-escaped: '%', ' ', '=' and bytes outside 0x21..0x7e are
-- %XX). This plugin turns that comment into filterable fields under the
-- protocol "pktrec":
--
--   pktrec.netns == 4026532328      pktrec.track == 0x2a
--   pktrec.drop                     pktrec.ifname == "eth0"
--   pktrec.loc contains "udp"       pktrec.head == 0xffff888001234000
--
-- plus pktrec.hop / pktrec.prev_frame / pktrec.hop_delta, which number the
-- hops of one track id in file order so a packet can be followed across
-- interfaces and namespaces. See docs/wireshark.md.
--
-- Install: `make install` (copies this file to $(PREFIX)/lib/wireshark/plugins/)
-- or copy it to ~/.local/lib/wireshark/plugins/. Test without installing:
--   tshark -X lua_script:wireshark/pktrec.lua -r FILE -Y pktrec.drop

local PKTREC_VERSION = "0.1.0"

if set_plugin_info then
	set_plugin_info({
		version = PKTREC_VERSION,
		description = "pkt-record EPB comment fields (pktrec.*)",
		author = "pkt-record authors",
		repository = "pkt-record",
	})
end

local p = Proto("pktrec", "pkt-record hop")

local hf = {
	hook       = ProtoField.string("pktrec.hook", "Hook", base.ASCII, "Tracepoint that saw the packet"),
	netns      = ProtoField.uint64("pktrec.netns", "Network namespace", base.DEC, nil, nil, "netns inode"),
	netns_name = ProtoField.string("pktrec.netns_name", "Namespace name", base.ASCII,
		"ip netns name, container, pod or process, from the interface description"),
	ifname     = ProtoField.string("pktrec.ifname", "Interface", base.ASCII, "skb->dev->name"),
	ifindex    = ProtoField.uint32("pktrec.ifindex", "Interface index", base.DEC),
	skb        = ProtoField.uint64("pktrec.skb", "skb", base.HEX, nil, nil, "Kernel address of the sk_buff"),
	track      = ProtoField.uint64("pktrec.track", "Track id", base.HEX, nil, nil,
		"Tracking id: the same on every hop of one packet"),
	cpu        = ProtoField.uint32("pktrec.cpu", "CPU", base.DEC),
	pid        = ProtoField.uint32("pktrec.pid", "PID", base.DEC),
	comm       = ProtoField.string("pktrec.comm", "Command", base.ASCII, "Current task's comm"),
	drop       = ProtoField.string("pktrec.drop", "Drop reason", base.ASCII, "Kernel skb drop reason"),
	loc        = ProtoField.string("pktrec.loc", "Drop location", base.ASCII,
		"Where kfree_skb was called: SYMBOL+0xOFF"),
	head       = ProtoField.uint64("pktrec.head", "Data buffer", base.HEX, nil, nil,
		"skb->head: clones of an sk_buff share it"),
	l2_synth   = ProtoField.bool("pktrec.l2_synth", "Synthetic L2 header", base.NONE, nil, nil,
		"The Ethernet header was synthesized (the skb had no MAC header)"),
	opt        = ProtoField.string("pktrec.opt", "Option", base.ASCII, "Other key=value pair (unescaped value)"),
	hop        = ProtoField.uint32("pktrec.hop", "Hop", base.DEC, nil, nil,
		"Hop number of this track id, in file order (1 = first)"),
	prev_frame = ProtoField.framenum("pktrec.prev_frame", "Previous hop", base.NONE, frametype.NONE,
		nil, "Frame of the previous hop of this track id"),
	next_frame = ProtoField.framenum("pktrec.next_frame", "Next hop", base.NONE, frametype.NONE,
		nil, "Frame of the next hop of this track id"),
	hop_delta  = ProtoField.relative_time("pktrec.hop_delta", "Time since previous hop",
		"Time since the previous hop of this track id"),
	comment    = ProtoField.string("pktrec.comment", "Comment", base.ASCII, "The raw EPB comment"),
	-- keys of the optional hooks that carry the packet (docs/format.md)
	icmp       = ProtoField.string("pktrec.icmp", "ICMP error sent", base.ASCII,
		"icmp:icmp_send: TYPE/CODE of the error this packet caused"),
	tcp_state  = ProtoField.string("pktrec.tcp_state", "TCP state", base.ASCII,
		"tcp:tcp_send_reset: the socket's state (- when none)"),
	rc         = ProtoField.int32("pktrec.rc", "Return code", base.DEC, nil, nil,
		"udp:udp_fail_queue_rcv_skb: why the socket refused it"),
	rmem       = ProtoField.uint32("pktrec.rmem", "Receive memory", base.DEC, nil, nil,
		"sock:sock_rcvqueue_full: bytes allocated"),
	rcvbuf     = ProtoField.uint32("pktrec.rcvbuf", "Receive buffer", base.DEC, nil, nil,
		"sock:sock_rcvqueue_full: the socket's limit"),
}
-- key -> field and how to read its value
local CAUSE_KEYS = {
	icmp = { "icmp", tostring }, tcp_state = { "tcp_state", tostring },
	rc = { "rc", tonumber }, rmem = { "rmem", tonumber }, rcvbuf = { "rcvbuf", tonumber },
}
p.fields = {
	hf.hook, hf.netns, hf.netns_name, hf.ifname, hf.ifindex, hf.skb, hf.track, hf.cpu, hf.pid, hf.comm,
	hf.drop, hf.loc, hf.head, hf.l2_synth, hf.opt, hf.hop, hf.prev_frame, hf.next_frame, hf.hop_delta, hf.comment,
	hf.icmp, hf.tcp_state, hf.rc, hf.rmem, hf.rcvbuf,
}

local ef = {
	drop = ProtoExpert.new("pktrec.dropped", "Packet dropped", expert.group.RESPONSE_CODE, expert.severity.WARN),
	malformed = ProtoExpert.new("pktrec.malformed", "Malformed pkt-record comment",
		expert.group.MALFORMED, expert.severity.WARN),
}
p.experts = { ef.drop, ef.malformed }

p.prefs.info = Pref.bool("Prefix the Info column", false,
	"Prefix the Info column with [NETNS IFNAME HOOK]")

-- The packet comment field: frame.comment in Wireshark >= 1.12 (4.x
-- included), pkt_comment in some older builds. Take whatever exists.
local f_comment
for _, name in ipairs({ "frame.comment", "pkt_comment" }) do
	local ok, f = pcall(Field.new, name)
	if ok and f then
		f_comment = f
		break
	end
end
local f_time = Field.new("frame.time_epoch")
local function unescape(s)
	-- Malformed escapes are kept literally, like trace_unescape().
	return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- pkt-record names the namespace in the interface description
-- (netns_name=NAME, docs/format.md); older Wireshark lacks the field.
local f_if_desc
do
	local ok, f = pcall(Field.new, "frame.interface_description")
	if ok then f_if_desc = f end
end

-- netns_name=VALUE from an interface description, unescaped; nil if absent.
local function desc_netns_name()
	if not f_if_desc then return nil end
	local d = f_if_desc()
	if not d or type(d.value) ~= "string" then return nil end
	local v = (" " .. d.value):match(" netns_name=([^ ]+)")
	return v and unescape(v) or nil
end

local function parse_dec64(v)
	if not v:match("^%d+$") or #v > 20 then return nil end
	if #v == 20 and v > "18446744073709551615" then return nil end
	return UInt64.new(v)
end

local function parse_u32(v)
	if not v:match("^%d+$") or #v > 10 then return nil end
	local n = tonumber(v)
	if n > 4294967295 then return nil end
	return n
end

local function parse_hex64(v)
	local h = v:match("^0[xX](%x+)$")
	if not h then return nil end
	h = h:gsub("^0+(%x)", "%1")
	if #h > 16 then return nil end
	return UInt64.fromhex(h)
end

local LEADING = {
	{ "hook",    "hook",    unescape },
	{ "netns",   "netns",   parse_dec64 },
	{ "if",      "ifname",  unescape },
	{ "ifindex", "ifindex", parse_u32 },
	{ "skb",     "skb",     parse_hex64 },
	{ "track",   "track",   parse_hex64 },
	{ "cpu",     "cpu",     parse_u32 },
	{ "pid",     "pid",     parse_u32 },
	{ "comm",    "comm",    unescape },
}

-- Parse a comment. Returns nil when it is not ours (does not start with
-- hook=), else a table with the parsed values and a list of problems.
local function parse(s)
	if s:sub(1, 5) ~= "hook=" then return nil end
	local r = { opts = {}, problems = {}, raw_leading = {} }
	local i = 1
	for tok in s:gmatch("[^ ]+") do
		local key, val = tok:match("^([^=]*)=(.*)$")
		if not key then
			r.problems[#r.problems + 1] = "token without '=': " .. tok
		elseif i <= #LEADING and key == LEADING[i][1] then
			local spec = LEADING[i]
			local v = spec[3](val)
			if v == nil then
				r.problems[#r.problems + 1] = "bad value for " .. key .. ": " .. val
			else
				r[spec[2]] = v
			end
			r.raw_leading[spec[2]] = val
			i = i + 1
		else
			if i <= #LEADING then
				r.problems[#r.problems + 1] = "expected " .. LEADING[i][1] .. "=, got " .. key .. "="
				i = #LEADING + 1 -- the rest is free-form, as in trace.c
			end
			if key == "drop" and val ~= "" then
				r.drop = unescape(val)
			elseif key == "loc" and val ~= "" then
				r.loc = unescape(val)
			elseif key == "head" and parse_hex64(val) then
				r.head = parse_hex64(val)
			elseif key == "l2" and val == "synth" then
				r.l2_synth = true
			elseif CAUSE_KEYS[key] and CAUSE_KEYS[key][2](unescape(val)) ~= nil then
				r.cause = r.cause or {}
				r.cause[#r.cause + 1] = { CAUSE_KEYS[key][1], CAUSE_KEYS[key][2](unescape(val)) }
			else
				r.opts[#r.opts + 1] = key .. "=" .. unescape(val)
			end
		end
	end
	if i <= #LEADING then
		local missing = {}
		for j = i, #LEADING do missing[#missing + 1] = LEADING[j][1] end
		r.problems[#r.problems + 1] = "missing " .. table.concat(missing, ", ")
	end
	return r
end

-- Hop bookkeeping. Hops are numbered in file order, so frames must be seen
-- in sequence: the first pass does that (tshark, and Wireshark when it
-- builds a tree on the first pass, e.g. for coloring rules or a filter);
-- after that the numbers are read back for any frame (GUI clicks, tshark -2).
-- A pass without a protocol tree cannot see comments (frame.time_epoch is
-- absent too, which is how we tell), so it does not count.
local hops = {}       -- frame number -> { hop=, prev=, delta= } (false: no track)
local last_of = {}    -- track (string) -> { frame=, time=, hop= }
local next_of = {}    -- frame number -> next frame of the same track
local seq_next = 1    -- next frame number expected in sequence

function p.init()
	hops, last_of, next_of, seq_next = {}, {}, {}, 1
end

local function hop_record(num, track, t)
	local key = tostring(track)
	local last = last_of[key]
	local h = { hop = 1 }
	if last then
		h.hop = last.hop + 1
		h.prev = last.frame
		if t and last.time then h.delta = t - last.time end
		next_of[last.frame] = num
	end
	hops[num] = h
	last_of[key] = { frame = num, time = t, hop = h.hop }
end

local function dissect_comment(s, tvb, pinfo, tree, in_sequence, t)
	local r = parse(s)
	if not r then return false end
	if in_sequence and r.track and hops[pinfo.number] == nil then
		hop_record(pinfo.number, r.track, t)
	end

	local ns_name = desc_netns_name()
	local ns_shown = ns_name or (r.netns and tostring(r.netns)) or "?"
	local summary = string.format("%s %s@%s", r.hook or "?", r.ifname or "?", ns_shown)
	if r.track then summary = summary .. string.format(" track=0x%s", r.track:tohex():gsub("^0+(%x)", "%1")) end
	if r.drop then summary = summary .. " DROP " .. r.drop end
	if r.loc then summary = summary .. " at " .. r.loc end
	local t = tree:add(p, tvb:range(0, 0), "pkt-record: " .. summary)

	for _, spec in ipairs(LEADING) do
		local name = spec[2]
		if r[name] ~= nil then
			local item = t:add(hf[name], r[name])
			item:set_generated()
			-- the name beside the inode
			if name == "netns" and ns_name then item:append_text(" (" .. ns_name .. ")") end
		end
		if name == "netns" and ns_name then
			t:add(hf.netns_name, ns_name):set_generated()
		end
	end
	if r.drop then
		t:add(hf.drop, r.drop):set_generated()
		t:add_proto_expert_info(ef.drop, "dropped: " .. r.drop)
	end
	if r.loc then
		t:add(hf.loc, r.loc):set_generated()
	end
	if r.head then
		t:add(hf.head, r.head):set_generated()
	end
	if r.l2_synth then
		t:add(hf.l2_synth, true):set_generated()
	end
	for _, c in ipairs(r.cause or {}) do
		t:add(hf[c[1]], c[2]):set_generated()
	end
	for _, o in ipairs(r.opts) do
		t:add(hf.opt, o):set_generated()
	end
	if r.track then
		local h = hops[pinfo.number]
		if h then
			t:add(hf.hop, h.hop):set_generated()
			if h.prev then t:add(hf.prev_frame, h.prev):set_generated() end
			local nxt = next_of[pinfo.number]
			if nxt then t:add(hf.next_frame, nxt):set_generated() end
			if h.delta then t:add(hf.hop_delta, h.delta):set_generated() end
		end
	end
	t:add(hf.comment, s):set_generated()
	for _, prob in ipairs(r.problems) do
		t:add_proto_expert_info(ef.malformed, prob)
	end
	if p.prefs.info then
		pinfo.cols.info:prepend(string.format("[%s %s %s] ", ns_shown,
			r.ifname or "?", r.hook or "?"))
	end
	return true
end

function p.dissector(tvb, pinfo, tree)
	if not f_comment then return end
	local num = pinfo.number
	local t = f_time()
	local in_sequence = false
	if t ~= nil and num == seq_next then
		-- frame fields are visible, so comments are too
		in_sequence = true
		seq_next = num + 1
	end
	t = t and t.value
	for _, fi in ipairs({ f_comment() }) do
		local s = fi.value
		if type(s) == "string" then
			dissect_comment(s, tvb, pinfo, tree, in_sequence, t)
		end
	end
end

register_postdissector(p)
