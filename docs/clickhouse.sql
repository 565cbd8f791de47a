-- ClickHouse tables for pkt-analyze's JSON lines: one table per line type.
--
--   clickhouse-client --multiquery < docs/clickhouse.sql
--
-- Load one host's recording (docs/fleet.md has a loader that also adds the
-- host name to lines that lack it, and sends no INSERT for a line type that
-- a run does not have: clickhouse-client refuses an empty one):
--
--   pkt-analyze --format json --only events  rec.pcapng.zst |
--       clickhouse-client --input_format_skip_unknown_fields=1 \
--           --query 'INSERT INTO events FORMAT JSONEachRow'
--   (the same with --only packets / packets and --only pairs / pairs)
--
-- Columns are the JSON keys of docs/pkt-analyze.1 (JSON OUTPUT). Works with
-- ClickHouse 18.16 (Debian's clickhouse-server) and later. What that version's
-- JSONEachRow accepts decides the types:
--   * a key that can be null needs a Nullable column (null into String is an
--     error); a key that is absent gets the type's default (0, '', []);
--   * true/false load into UInt8;
--   * a JSON object or an array of objects does not load into any column,
--     not even String. So the packet line's "hops" (array of objects) and
--     "cause" (object) have no column: input_format_skip_unknown_fields=1
--     skips them, and the same setting skips keys that newer versions of
--     pkt-analyze add. A packet's hops are its rows in `events`
--     (events.packet = packets.id, same host), in time order.
--   * "type" is skipped too: the table says it.
-- Keys that pkt-analyze does not write everywhere yet (host, netns_name,
-- fate, fate_detail, why) are Nullable or have a default, so older output
-- loads as it is.
--
-- Packet ids (events.packet, packets.id, pairs.request_packet/reply_packet)
-- count from 1 in each pkt-analyze run: a packet is (host, id) when each
-- host's files are analyzed on their own; analyze a host's files of one
-- period in one run. When pkt-analyze merges several hosts' files in one run
-- (one path per packet across hosts, clocks corrected), each line carries its
-- own host (the event's hop's, the packet's first hop's) and the packet ids
-- span those hosts: load such a run alone in its tables.
--
-- Ordering keys: what fleet queries filter on first (a host, a time range),
-- then what makes rows unique. Parts are per day so old days can be dropped
-- with ALTER TABLE ... DROP PARTITION.
--
-- A fleet: create these tables on every node (or shard), each node loading
-- its own recordings into them, and on the node that answers queries a
-- Distributed table over each, with the cluster named in the server's
-- <remote_servers> configuration (here "fleet"):
--
--   CREATE TABLE events_all AS events
--       ENGINE = Distributed(fleet, default, events, cityHash64(host));
--   CREATE TABLE packets_all AS packets
--       ENGINE = Distributed(fleet, default, packets, cityHash64(host));
--   CREATE TABLE pairs_all AS pairs
--       ENGINE = Distributed(fleet, default, pairs, cityHash64(host));
--
-- and run the queries of docs/fleet.md on events_all, packets_all and
-- pairs_all (they use GLOBAL IN where a subquery reads the fleet). Sharding
-- by host keeps all of a host's rows, so each of its packets, on one shard.
-- Rows can also be inserted into the Distributed tables, which forward each
-- to its host's shard.

-- One row per recorded hit ({"type":"event"}).
CREATE TABLE IF NOT EXISTS events
(
    host String,                 -- recording host (SHB host name, --host NAME=FILE)
    n UInt64,                    -- event number in its pkt-analyze run
    ts_ns UInt64,                -- capture time, ns since the epoch
    file String,
    offset UInt64,               -- of its block in the (decompressed) file
    hook Nullable(String),       -- null outside pkt-record
    netns UInt64,                -- namespace inode, 0 when unknown
    netns_name Nullable(String),
    ifname String,
    ifindex Nullable(UInt32),
    dir Nullable(String),        -- 'in', 'out'
    track Nullable(UInt64),
    skb Nullable(String),
    cpu Nullable(UInt32),
    pid Nullable(UInt32),
    comm Nullable(String),
    drop Nullable(String),       -- drop reason, null unless dropped
    l2_synth UInt8,
    len UInt32,                  -- original length
    caplen UInt32,
    linktype UInt32,
    proto Nullable(String),
    src Nullable(String),
    dst Nullable(String),
    sport Nullable(UInt16),
    dport Nullable(UInt16),
    encap Nullable(String),
    summary Nullable(String),
    packet UInt64                -- packets.id of its packet, 0 when none
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(toDateTime(intDiv(ts_ns, 1000000000)))
ORDER BY (host, ts_ns, n);

-- One row per tracked packet ({"type":"packet"}), without its hops.
CREATE TABLE IF NOT EXISTS packets
(
    host String,
    id UInt64,
    track Nullable(UInt64),
    tracks Array(UInt64),
    first_ts_ns UInt64,
    last_ts_ns UInt64,
    duration_ns UInt64,
    proto Nullable(String),
    src Nullable(String),
    dst Nullable(String),
    sport Nullable(UInt16),
    dport Nullable(UInt16),
    summary Nullable(String),
    dropped UInt8,
    drop Nullable(String),
    nhops UInt32,
    fate Nullable(String),        -- delivered, dropped, forwarded, in-flight, unknown
    fate_detail Nullable(String),
    why Nullable(String),         -- one human line for a drop or no reply
    answers Nullable(UInt64)      -- an ICMP error or reset: the request packet it answered
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(toDateTime(intDiv(first_ts_ns, 1000000000)))
ORDER BY (host, first_ts_ns, id);

-- One row per request/reply pair ({"type":"pair"}). A pair has no time of
-- its own: its request packet's first_ts_ns is in `packets`.
CREATE TABLE IF NOT EXISTS pairs
(
    host String,
    kind String,                  -- icmp-echo, arp, tcp-handshake, udp, ...
    request Nullable(UInt64),     -- tracking ids
    reply Nullable(UInt64),
    request_packet UInt64,        -- packets.id
    reply_packet UInt64,
    rtt_ns Int64,
    src Nullable(String),
    dst Nullable(String),
    sport Nullable(UInt16),
    dport Nullable(UInt16),
    request_summary Nullable(String),
    reply_summary Nullable(String),
    request_dropped UInt8,
    reply_dropped UInt8
)
ENGINE = MergeTree()
ORDER BY (host, request_packet);
