/**
 * Header layouts as offset constants (bytes from the start of each header) and protocol numbers.
 * Pure data: per-packet code uses these names so that every magic number has one home.
 * Field comments give the field's size.
 */

// ---- Ethernet II (14 bytes) and 802.1Q / 802.1ad tags (4 bytes each) --------------------------
export const ETH_DST = 0; // 6: destination MAC
export const ETH_SRC = 6; // 6: source MAC
export const ETH_TYPE = 12; // 2: EtherType, or TPID of the first tag
export const ETH_HEADER_SIZE = 14;
export const VLAN_TAG_SIZE = 4; // TCI (2: PCP 3 bits, DEI 1, VID 12) + next EtherType (2)
export const VLAN_MAX_TAGS = 8; // more than this is treated as malformed (bounded loop)

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100; // 802.1Q C-tag
export const ETHERTYPE_QINQ = 0x88a8; // 802.1ad S-tag
export const ETHERTYPE_QINQ_OLD = 0x9100; // pre-standard QinQ TPID
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_MIN = 0x0600; // below this the field is an 802.3 length

// ---- ARP for Ethernet/IPv4 (28 bytes) ----------------------------------------------------------
export const ARP_HTYPE = 0; // 2: hardware type (1 = Ethernet)
export const ARP_PTYPE = 2; // 2: protocol type (0x0800)
export const ARP_HLEN = 4; // 1: hardware address length (6)
export const ARP_PLEN = 5; // 1: protocol address length (4)
export const ARP_OPER = 6; // 2: opcode (1 request, 2 reply)
export const ARP_SHA = 8; // 6: sender MAC
export const ARP_SPA = 14; // 4: sender IPv4
export const ARP_THA = 18; // 6: target MAC
export const ARP_TPA = 24; // 4: target IPv4
export const ARP_HEADER_SIZE = 28;
export const ARP_FIXED_SIZE = 8; // the part before the addresses

// ---- IPv4 (20 bytes + options) -------------------------------------------------------------------
export const IPV4_VERSION_IHL = 0; // 1: version (4 bits) + header length in 32-bit words
export const IPV4_TOS = 1; // 1: DSCP + ECN
export const IPV4_TOTAL_LENGTH = 2; // 2: header + payload (0 for BIG TCP super-frames)
export const IPV4_ID = 4; // 2
export const IPV4_FLAGS_FRAGMENT = 6; // 2: flags (3 bits: reserved, DF, MF) + fragment offset (13 bits, 8-byte units)
export const IPV4_TTL = 8; // 1
export const IPV4_PROTOCOL = 9; // 1
export const IPV4_CHECKSUM = 10; // 2
export const IPV4_SRC = 12; // 4
export const IPV4_DST = 16; // 4
export const IPV4_HEADER_SIZE = 20;
export const IPV4_FLAG_MF = 0x2000;
export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FRAGMENT_OFFSET_MASK = 0x1fff;

// ---- IPv6 (40 bytes + extension headers) -----------------------------------------------------------
export const IPV6_VERSION_CLASS_FLOW = 0; // 4: version (4 bits), traffic class, flow label
export const IPV6_PAYLOAD_LENGTH = 4; // 2: bytes after the fixed header (0 with a jumbo option)
export const IPV6_NEXT_HEADER = 6; // 1
export const IPV6_HOP_LIMIT = 7; // 1
export const IPV6_SRC = 8; // 16
export const IPV6_DST = 24; // 16
export const IPV6_HEADER_SIZE = 40;
export const IPV6_MAX_EXTENSIONS = 40; // bound on the extension chain (libpcap's test chain has ~30)

// IP protocol numbers (IPv4 protocol / IPv6 next header)
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IGMP = 2;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_MOBILITY = 135;

// IPv6 fragment header (8 bytes)
export const IPV6_FRAG_NEXT = 0; // 1
export const IPV6_FRAG_OFFSET_FLAGS = 2; // 2: offset (13 bits, 8-byte units) << 3 | M flag
export const IPV6_FRAG_SIZE = 8;

// ---- TCP (20 bytes + options) ------------------------------------------------------------------
export const TCP_SRC_PORT = 0; // 2
export const TCP_DST_PORT = 2; // 2
export const TCP_SEQ = 4; // 4
export const TCP_ACK = 8; // 4
export const TCP_DATA_OFFSET = 12; // 1: header length in 32-bit words (high 4 bits)
export const TCP_FLAGS = 13; // 1: CWR ECE URG ACK PSH RST SYN FIN
export const TCP_WINDOW = 14; // 2
export const TCP_CHECKSUM = 16; // 2
export const TCP_URGENT = 18; // 2
export const TCP_HEADER_SIZE = 20;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK_FLAG = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

// ---- UDP (8 bytes) ------------------------------------------------------------------------------
export const UDP_SRC_PORT = 0; // 2
export const UDP_DST_PORT = 2; // 2
export const UDP_LENGTH = 4; // 2: header + payload (0 for BIG TCP / jumbograms)
export const UDP_CHECKSUM = 6; // 2
export const UDP_HEADER_SIZE = 8;

// ---- ICMP / ICMPv6 (8 bytes for echo) ---------------------------------------------------------
export const ICMP_TYPE = 0; // 1
export const ICMP_CODE = 1; // 1
export const ICMP_CHECKSUM = 2; // 2
export const ICMP_ECHO_ID = 4; // 2
export const ICMP_ECHO_SEQ = 6; // 2
export const ICMP_MIN_SIZE = 4; // type, code, checksum
export const ICMP_ECHO_SIZE = 8;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;

// ---- IGMP (8 bytes for v1/v2) ------------------------------------------------------------------
export const IGMP_TYPE = 0; // 1
export const IGMP_MIN_SIZE = 8;

// ---- VXLAN (8 bytes, RFC 7348) ------------------------------------------------------------------
export const VXLAN_FLAGS = 0; // 1: 0x08 = I (VNI valid)
export const VXLAN_VNI = 4; // 3: VNI, then 1 reserved byte
export const VXLAN_HEADER_SIZE = 8;
export const VXLAN_FLAG_I = 0x08;
export const VXLAN_DEFAULT_PORT = 4789;
