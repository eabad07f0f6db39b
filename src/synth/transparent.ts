/**
 * The `transparent` scenario: the replay demo (`npm start`) and golden test, a fixed script of
 * frames for the topology `pcaps/transparent.json` — a Transparent network `ext` bound to the
 * uplink `eth0` (10.10.0.0/24, physical router 10.10.0.1), with three containers:
 *
 *   web  10.10.0.10   ACLs: allow in TCP 80, block out TCP 25, allow all out (so inbound is
 *                     default-deny for everything but port 80)
 *   db   10.10.0.20   no ACLs: only the host firewall defaults (inbound TCP/UDP/ICMP/IGMP)
 *   app  10.10.100.30 on VLAN 100 (access port; tagged on the uplink)
 *
 * and a client 10.10.0.50 on the wire. Each frame is captured on the interface it enters the
 * switch from (named after the port), 1 ms apart. What each frame shows is in `note`, which the
 * golden test's README mirrors.
 */
import type { FrameSpec } from './frame.js';

export interface ScriptedFrame {
  source: string;
  frame: FrameSpec;
  /** What Windows does with it (for humans: the golden test checks the real outcome). */
  note: string;
  /** Cut the capture to this many bytes (a snapped frame). */
  snap?: number;
}

export const TRANSPARENT_SOURCES = ['eth0', 'web', 'db', 'app'] as const;

const CLIENT = '02:00:0a:0a:00:32';
const ROUTER = '02:00:0a:0a:00:01';
const WEB = '00:15:5d:0a:00:0a';
const DB = '00:15:5d:0a:00:14';
const APP = '00:15:5d:0a:64:1e';
const BCAST = 'ff:ff:ff:ff:ff:ff';
const SYN = 0x02;
const ACK = 0x10;
const SYNACK = 0x12;
const PSHACK = 0x18;
const MSS = [2, 4, 0x05, 0xb4];

export const TRANSPARENT_SCRIPT: readonly ScriptedFrame[] = [
  { source: 'eth0', note: 'ARP who-has web from the wire: delivered to web alone', frame: { src: CLIENT, dst: BCAST, arp: { op: 1, spa: '10.10.0.50', tpa: '10.10.0.10' } } },
  { source: 'web', note: 'web answers: bridged onto the wire with its own MAC', frame: { src: WEB, dst: CLIENT, arp: { op: 2, spa: '10.10.0.10', tha: CLIENT, tpa: '10.10.0.50' } } },
  {
    source: 'eth0',
    note: 'client SYN to web:80: allowed by web\'s ACL (stateful), a flow pair is installed',
    frame: { src: CLIENT, dst: WEB, ip: { src: '10.10.0.50', dst: '10.10.0.10', ttl: 64 }, tcp: { sport: 40001, dport: 80, flags: SYN, seq: 7000, options: MSS } },
  },
  {
    source: 'web',
    note: 'web SYN-ACK: the reverse entry of the pair (fast path)',
    frame: { src: WEB, dst: CLIENT, ip: { src: '10.10.0.10', dst: '10.10.0.50', ttl: 128 }, tcp: { sport: 80, dport: 40001, flags: SYNACK, seq: 9000, ack: 7001, options: MSS } },
  },
  {
    source: 'eth0',
    note: 'client ACK: forward entry (fast path)',
    frame: { src: CLIENT, dst: WEB, ip: { src: '10.10.0.50', dst: '10.10.0.10', ttl: 64 }, tcp: { sport: 40001, dport: 80, flags: ACK, seq: 7001, ack: 9001 } },
  },
  {
    source: 'eth0',
    note: 'client GET: forward entry (fast path)',
    frame: { src: CLIENT, dst: WEB, ip: { src: '10.10.0.50', dst: '10.10.0.10', ttl: 64 }, tcp: { sport: 40001, dport: 80, flags: PSHACK, seq: 7001, ack: 9001, payload: 'GET / HTTP/1.1\r\nHost: web\r\n\r\n' } },
  },
  {
    source: 'eth0',
    note: 'client SYN to web:22: no ACL allows it: dropped, acl-default-deny',
    frame: { src: CLIENT, dst: WEB, ip: { src: '10.10.0.50', dst: '10.10.0.10', ttl: 64 }, tcp: { sport: 40002, dport: 22, flags: SYN, seq: 100, options: MSS } },
  },
  {
    source: 'web',
    note: 'web SYN to a mail server, TCP 25: blocked by web\'s ACL, acl-block',
    frame: { src: WEB, dst: ROUTER, ip: { src: '10.10.0.10', dst: '203.0.113.25', ttl: 128 }, tcp: { sport: 50000, dport: 25, flags: SYN, seq: 1, options: MSS } },
  },
  {
    source: 'web',
    note: 'web DNS query to the router: allowed by allow-all-out (stateful)',
    frame: { src: WEB, dst: ROUTER, ip: { src: '10.10.0.10', dst: '10.10.0.1', ttl: 128 }, udp: { sport: 53001, dport: 53, payload: '\x1a\x2b\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01' } },
  },
  {
    source: 'eth0',
    note: 'DNS answer: admitted by the flow pair (web has no inbound UDP rule)',
    frame: { src: ROUTER, dst: WEB, ip: { src: '10.10.0.1', dst: '10.10.0.10', ttl: 64 }, udp: { sport: 53, dport: 53001, payload: '\x1a\x2b\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xcb\x00\x71\x50' } },
  },
  {
    source: 'eth0',
    note: 'client pings db: the host firewall admits ICMP inbound',
    frame: { src: CLIENT, dst: DB, ip: { src: '10.10.0.50', dst: '10.10.0.20', ttl: 64 }, icmp: { request: true, id: 0x1d2e, seq: 1, payload: 'abcdefghijklmnopqrstuvwabcdefghi' } },
  },
  {
    source: 'db',
    note: 'db\'s echo reply: the reverse entry of the firewall\'s flow pair',
    frame: { src: DB, dst: CLIENT, ip: { src: '10.10.0.20', dst: '10.10.0.50', ttl: 128 }, icmp: { request: false, id: 0x1d2e, seq: 1, payload: 'abcdefghijklmnopqrstuvwabcdefghi' } },
  },
  {
    source: 'eth0',
    note: 'client sends GRE (protocol 47) to db unsolicited: firewall-protocol',
    frame: { src: CLIENT, dst: DB, ip: { src: '10.10.0.50', dst: '10.10.0.20', ttl: 64 }, raw: { protocol: 47, payload: '\x00\x00\x08\x00gre-payload' } },
  },
  {
    source: 'db',
    note: 'db opens GRE to the client: outbound allow all',
    frame: { src: DB, dst: CLIENT, ip: { src: '10.10.0.20', dst: '10.10.0.50', ttl: 128 }, raw: { protocol: 47, payload: '\x00\x00\x08\x00gre-payload' } },
  },
  {
    source: 'eth0',
    note: 'the client\'s GRE answer: now admitted by db\'s flow',
    frame: { src: CLIENT, dst: DB, ip: { src: '10.10.0.50', dst: '10.10.0.20', ttl: 64 }, raw: { protocol: 47, payload: '\x00\x00\x08\x00gre-answer!' } },
  },
  {
    source: 'web',
    note: 'web to db, same subnet: bridged inside the vSwitch (never on the wire)',
    frame: { src: WEB, dst: DB, ip: { src: '10.10.0.10', dst: '10.10.0.20', ttl: 128 }, tcp: { sport: 50100, dport: 5432, flags: SYN, seq: 5, options: MSS } },
  },
  {
    source: 'db',
    note: 'db answers web: reverse entry',
    frame: { src: DB, dst: WEB, ip: { src: '10.10.0.20', dst: '10.10.0.10', ttl: 128 }, tcp: { sport: 5432, dport: 50100, flags: SYNACK, seq: 77, ack: 6, options: MSS } },
  },
  {
    source: 'eth0',
    note: 'client SYN to app on VLAN 100 (tagged on the wire): tag popped toward the access port',
    frame: { src: ROUTER, dst: APP, vlan: 100, ip: { src: '10.10.0.50', dst: '10.10.100.30', ttl: 63 }, tcp: { sport: 40003, dport: 8080, flags: SYN, seq: 300, options: MSS } },
  },
  {
    source: 'app',
    note: 'app SYN-ACK: tag 100 pushed toward the uplink',
    frame: { src: APP, dst: ROUTER, ip: { src: '10.10.100.30', dst: '10.10.0.50', ttl: 128 }, tcp: { sport: 8080, dport: 40003, flags: SYNACK, seq: 900, ack: 301, options: MSS } },
  },
  {
    source: 'eth0',
    note: 'a frame for app tagged VLAN 200: vlan-mismatch',
    frame: { src: ROUTER, dst: APP, vlan: 200, ip: { src: '10.10.0.50', dst: '10.10.100.30', ttl: 63 }, tcp: { sport: 40004, dport: 8080, flags: SYN, seq: 1 } },
  },
  {
    source: 'eth0',
    note: 'a broadcast ARP for the router from the wire: flooded to web and db (not app: other VLAN)',
    frame: { src: CLIENT, dst: BCAST, arp: { op: 1, spa: '10.10.0.50', tpa: '10.10.0.99' } },
  },
  {
    source: 'eth0',
    note: 'unicast to a MAC no port has: unknown-mac',
    frame: { src: CLIENT, dst: '02:00:0a:0a:00:63', ip: { src: '10.10.0.50', dst: '10.10.0.99', ttl: 64 }, udp: { sport: 5000, dport: 5000, payload: 'hello' } },
  },
  {
    source: 'web',
    note: 'a frame cut by a 30-byte snaplen: truncated',
    snap: 30,
    frame: { src: WEB, dst: ROUTER, ip: { src: '10.10.0.10', dst: '198.51.100.7', ttl: 128 }, tcp: { sport: 50200, dport: 443, flags: SYN, seq: 1, options: MSS } },
  },
];

/**
 * The `nat-host` scenario, for `test/golden/scenarios/nat-host`: a NAT network `nat`
 * (172.20.0.0/16, gateway 172.20.0.1 on the host vNIC `host:nat`) with containers web and api,
 * and a Private network `priv` with one container. Shows the host vNIC answering ARP and ping for
 * the gateway, bridging between containers, flooding within a network only, and traffic for the
 * outside handed to the host (WinNAT, which takes it further, is the NAT driver's issue).
 */
export const NAT_HOST_SOURCES = ['web', 'api', 'lone', 'host:nat'] as const;

const NWEB = '00:15:5d:aa:10:0a';
const NAPI = '00:15:5d:aa:10:0b';
const NVNIC = '00:15:5d:00:10:01';
const LONE = '00:15:5d:bb:00:01';
const PING = 'abcdefghijklmnopqrstuvwabcdefghi';

export const NAT_HOST_SCRIPT: readonly ScriptedFrame[] = [
  { source: 'web', note: 'web asks for the gateway: the host vNIC receives it and answers', frame: { src: NWEB, dst: BCAST, arp: { op: 1, spa: '172.20.0.10', tpa: '172.20.0.1' } } },
  { source: 'web', note: 'web pings the gateway: the host answers, the reply is admitted by the flow', frame: { src: NWEB, dst: NVNIC, ip: { src: '172.20.0.10', dst: '172.20.0.1', ttl: 128 }, icmp: { request: true, id: 1, seq: 1, payload: PING } } },
  { source: 'web', note: 'second ping: fast path both ways', frame: { src: NWEB, dst: NVNIC, ip: { src: '172.20.0.10', dst: '172.20.0.1', ttl: 128 }, icmp: { request: true, id: 1, seq: 2, payload: PING } } },
  { source: 'web', note: 'web asks for api: delivered to api alone', frame: { src: NWEB, dst: BCAST, arp: { op: 1, spa: '172.20.0.10', tpa: '172.20.0.11' } } },
  { source: 'api', note: 'api answers', frame: { src: NAPI, dst: NWEB, arp: { op: 2, spa: '172.20.0.11', tha: NWEB, tpa: '172.20.0.10' } } },
  { source: 'web', note: 'web -> api TCP: bridged', frame: { src: NWEB, dst: NAPI, ip: { src: '172.20.0.10', dst: '172.20.0.11', ttl: 128 }, tcp: { sport: 49800, dport: 8080, flags: SYN, seq: 10, options: MSS } } },
  { source: 'api', note: 'api -> web: reverse entry', frame: { src: NAPI, dst: NWEB, ip: { src: '172.20.0.11', dst: '172.20.0.10', ttl: 128 }, tcp: { sport: 8080, dport: 49800, flags: SYNACK, seq: 20, ack: 11, options: MSS } } },
  { source: 'web', note: 'a NetBIOS broadcast: flooded to api and the host, not to priv', frame: { src: NWEB, dst: BCAST, ip: { src: '172.20.0.10', dst: '172.20.255.255', ttl: 128 }, udp: { sport: 137, dport: 137, payload: 'netbios-name-query' } } },
  { source: 'web', note: 'web to the internet via the gateway MAC: handed to the host (WinNAT is the NAT issue)', frame: { src: NWEB, dst: NVNIC, ip: { src: '172.20.0.10', dst: '203.0.113.80', ttl: 128 }, tcp: { sport: 49900, dport: 443, flags: SYN, seq: 1, options: MSS } } },
  { source: 'host:nat', note: 'the host sends to api (host -> container): bridged, inbound firewall admits TCP', frame: { src: NVNIC, dst: NAPI, ip: { src: '172.20.0.1', dst: '172.20.0.11', ttl: 128 }, tcp: { sport: 50000, dport: 8080, flags: SYN, seq: 1, options: MSS } } },
  { source: 'lone', note: 'the Private network container broadcasts: nobody else is there', frame: { src: LONE, dst: BCAST, arp: { op: 1, spa: '192.168.50.5', tpa: '192.168.50.9' } } },
  { source: 'web', note: 'web pings api: ICMP admitted inbound by the firewall', frame: { src: NWEB, dst: NAPI, ip: { src: '172.20.0.10', dst: '172.20.0.11', ttl: 128 }, icmp: { request: true, id: 9, seq: 1, payload: PING } } },
];
