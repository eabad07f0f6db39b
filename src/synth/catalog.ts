/**
 * The synth scenarios' names and one-line descriptions, apart from the generators
 * (scenarios.ts) so that the command line can list them without loading the generators.
 */

/** Scenario names with the one-line description `vfp synth --help` prints. */
export const SYNTH_SCENARIOS = {
  mix64: '64-byte frames (60 captured): 60% TCP (SYN/SYN-ACK/ACK, data both ways, FIN) and 40% UDP flows, both directions',
  imix: 'Simple IMIX 7:4:1 of 64/594/1518-byte frames (60/590/1514 captured) over established TCP and UDP flows',
  vxlan: 'VXLAN (UDP 4789, VNIs 4096-4103, 4 remote VTEPs) carrying TCP conversations; outer source port from the inner flow hash',
  'new-flows': 'one new flow per packet: every frame a 64-byte TCP SYN from a distinct source (address, port); --flows is ignored',
  sample: 'the README demo (17 frames on eth0 and web): ARP, ping, DNS, TCP with HTTP, IPv6, VLAN 100, VXLAN, a truncated frame',
  transparent: 'the replay demo for pcaps/transparent.json (23 frames on eth0, web, db, app): allowed, blocked and bridged traffic, VLAN 100, flooding',
  'nat-host': 'a NAT network seen from its containers and host vNIC (12 frames): ARP and ping for the gateway answered by the host, bridging, flooding',
  'transparent-flows': 'for pcaps/transparent.json: 64-byte TCP data segments of --flows established connections between remote clients and web:80, both directions',
  'transparent-syns': 'for pcaps/transparent.json: one new stateful flow per packet, a 64-byte TCP SYN from a distinct remote (address, port) to web:80; --flows is ignored',
} as const;
export type SynthScenario = keyof typeof SYNTH_SCENARIOS;

export function isSynthScenario(name: string): name is SynthScenario {
  return Object.prototype.hasOwnProperty.call(SYNTH_SCENARIOS, name);
}
