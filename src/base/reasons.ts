/**
 * Drop reasons and parse errors: one `as const` list each, from which the numeric ids (used in
 * batch columns and counter slots) and the kebab-case display names (used in summaries, traces,
 * pcapng comments and JSON) both derive. Add a name at the end; never reorder (ids are positions).
 *
 * Every dropped frame carries exactly one reason; `in = out + dropped` is checked against these
 * counters. Parse errors are finer-grained than drop reasons: each maps to `truncated` or
 * `malformed` when the frame is dropped for it.
 */

export const DROP_REASONS = [
  'none',
  'malformed',
  'truncated',
  'acl-block',
  'acl-default-deny',
  'firewall-protocol',
  'no-nat-session',
  'no-port-mapping',
  'vlan-mismatch',
  'vni-mismatch',
  'no-route',
  'mtu-exceeded',
  'table-full',
  'ttl-expired',
  'unknown-port',
  'unsupported-link-type',
  'unknown-mac',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
export const DROP_REASON_COUNT = DROP_REASONS.length;

/** Numeric id of each drop reason, e.g. `DropReasonId['acl-block'] === 3`. */
export const DropReasonId: { readonly [K in DropReason]: number } = Object.freeze(
  Object.fromEntries(DROP_REASONS.map((name, id) => [name, id])) as { [K in DropReason]: number },
);

/**
 * Per-frame parse errors written by `parse/` into the batch's `errors` column. Id 0 is "no error".
 * The name is what `vfp parse --json` prints under `"error"`.
 */
export const PARSE_ERRORS = [
  'none',
  'truncated-ethernet',
  'truncated-vlan',
  'truncated-arp',
  'truncated-ipv4',
  'bad-ipv4-version',
  'bad-ipv4-header-length',
  'bad-ipv4-total-length',
  'truncated-ipv6',
  'bad-ipv6-version',
  'truncated-ipv6-extension',
  'bad-ipv6-extension',
  'truncated-tcp',
  'bad-tcp-data-offset',
  'truncated-udp',
  'bad-udp-length',
  'truncated-icmp',
  'truncated-icmpv6',
  'truncated-igmp',
  'truncated-vxlan',
  'too-many-vlan-tags',
  'too-many-ipv6-extensions',
] as const;
export type ParseError = (typeof PARSE_ERRORS)[number];
export const PARSE_ERROR_COUNT = PARSE_ERRORS.length;

export const ParseErrorId: { readonly [K in ParseError]: number } = Object.freeze(
  Object.fromEntries(PARSE_ERRORS.map((name, id) => [name, id])) as { [K in ParseError]: number },
);

/** The drop reason a frame with this parse error is dropped for. */
export function parseErrorDropReason(errorId: number): number {
  if (errorId === 0) return DropReasonId.none;
  const name = PARSE_ERRORS[errorId] ?? 'malformed';
  return name.startsWith('truncated-') ? DropReasonId.truncated : DropReasonId.malformed;
}
