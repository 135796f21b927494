/**
 * Environments deployed to one Docker Engine share its networks and its host ports: two with the same subnet, or
 * the same host port on the same address, cannot both be up (Docker refuses the second network or container at
 * apply time, halfway through). Found here, before anything is synthesized, with both files and keys named.
 */
import { DEFAULTS } from "../constructs/defaults";
import { dockerHostKey } from "../constructs/lib/docker-host";
import { farmSubnets } from "../constructs/networks/address-plan";
import { overlaps, parseCidr } from "../constructs/networks/ipv4";
import { Environment, keyPath } from "./load";

type KeyAt = readonly (string | number)[];

interface Claim {
  readonly at: KeyAt;
  readonly value: string;
}

function subnetsOf(env: Environment): Array<Claim & { subnet: string }> {
  const subnets = farmSubnets(env.config.network);
  return (["appSubnet", "dataSubnet"] as const).map((key) => ({ at: ["network", key], value: subnets[key], subnet: subnets[key] }));
}

/** Every host port the environment publishes, with the address it is published on. */
function portsOf(env: Environment): Array<Claim & { address: string; port: number }> {
  const b = env.config.balancer;
  const address = b.bindAddress ?? DEFAULTS.balancer.bindAddress;
  const statsAddress = b.stats?.bindAddress ?? DEFAULTS.balancer.stats.bindAddress;
  const claims = [{ at: ["balancer", "httpPort"], address, port: b.httpPort ?? DEFAULTS.balancer.httpPort }];
  if (b.tls) claims.push({ at: ["balancer", "tls", "port"], address, port: b.tls.port ?? DEFAULTS.balancer.tls.port });
  claims.push({ at: ["balancer", "stats", "port"], address: statsAddress, port: b.stats?.port ?? DEFAULTS.balancer.stats.port });
  return claims.map((c) => ({ ...c, value: `${c.address}:${c.port}` }));
}

/** 0.0.0.0 takes the port on every address of the host. */
const sameSocket = (a: { address: string; port: number }, b: { address: string; port: number }) =>
  a.port === b.port && (a.address === b.address || a.address === "0.0.0.0" || b.address === "0.0.0.0");

const where = (env: Environment, at: KeyAt) => `${env.file}:${env.lineOf(at)} ${keyPath(at)}`;

/**
 * One line per clash between two environments on the same Docker host; only clashes that involve one of
 * `checked` (by name) are reported, so synthesizing one environment is not blocked by two others.
 */
export function environmentClashes(environments: readonly Environment[], checked?: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (let i = 0; i < environments.length; i++) {
    for (let j = i + 1; j < environments.length; j++) {
      const [a, b] = [environments[i], environments[j]];
      if (checked && !checked.has(a.name) && !checked.has(b.name)) continue;
      const host = dockerHostKey(a.config.docker?.host);
      if (host !== dockerHostKey(b.config.docker?.host)) continue;
      for (const x of subnetsOf(a)) {
        for (const y of subnetsOf(b)) {
          const [cx, cy] = [parseCidr(x.subnet), parseCidr(y.subnet)];
          if (cx && cy && overlaps(cx, cy)) {
            problems.push(`${where(a, x.at)}: ${x.value} overlaps ${y.value} of ${where(b, y.at)}; environments on ${host} need subnets of their own`);
          }
        }
      }
      for (const x of portsOf(a)) {
        for (const y of portsOf(b)) {
          if (sameSocket(x, y)) {
            problems.push(`${where(a, x.at)}: host port ${x.value} is also published by ${where(b, y.at)} (${y.value}) on ${host}; give one of them another port or address`);
          }
        }
      }
    }
  }
  return problems;
}
