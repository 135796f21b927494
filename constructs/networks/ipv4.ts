/** Small IPv4/CIDR arithmetic: addresses are derived at synth, so the balancer and nodes know each other's IPs. */

export interface Cidr {
  readonly base: number;
  readonly prefix: number;
}

const OCTET = "(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)";
const ADDRESS = `(?:${OCTET}\\.){3}${OCTET}`;

/** A dotted-quad IPv4 address, each octet 0..255. */
export const IPV4_ADDRESS = new RegExp(`^${ADDRESS}$`);

/** An IPv4 address, or a network in CIDR form with any prefix 0..32 (for source lists, not farm subnets). */
export const IPV4_ADDRESS_OR_CIDR = new RegExp(`^${ADDRESS}(?:/(?:3[0-2]|[12]?\\d))?$`);

// No leading zeros: Docker (Go's parser) refuses them, and some parsers read 010 as octal.
const CIDR_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)$/;

/** Parses `a.b.c.d/n`; returns undefined when the text is not a network address with a prefix of 16..28. */
export function parseCidr(text: string): Cidr | undefined {
  const cidr = parseNetwork(text);
  return cidr && cidr.prefix >= 16 && cidr.prefix <= 28 ? cidr : undefined;
}

/** Parses `a.b.c.d/n` with any prefix 0..32; undefined when it is not a network address (host bits set). */
export function parseNetwork(text: string): Cidr | undefined {
  const m = CIDR_RE.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  if ((base & hostMask(prefix)) !== 0) return undefined;
  return { base, prefix };
}

/** Whether network `inner` lies wholly inside network `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && overlaps(outer, inner);
}

function hostMask(prefix: number): number {
  return prefix === 32 ? 0 : (0xffffffff >>> prefix) >>> 0;
}

/** Number of usable host offsets (excluding network and broadcast addresses). */
export function hostCapacity(cidr: Cidr): number {
  return hostMask(cidr.prefix) - 1;
}

/** The address at `offset` inside the network (1 = Docker's gateway). Throws when it does not fit. */
export function hostAddress(cidrText: string, offset: number): string {
  const cidr = parseCidr(cidrText);
  if (!cidr) throw new Error(`not a usable IPv4 network: ${cidrText}`);
  if (offset < 1 || offset > hostCapacity(cidr)) {
    throw new Error(`offset ${offset} does not fit in ${cidrText} (${hostCapacity(cidr)} host addresses)`);
  }
  const n = cidr.base + offset;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const aEnd = a.base + hostMask(a.prefix);
  const bEnd = b.base + hostMask(b.prefix);
  return a.base <= bEnd && b.base <= aEnd;
}
