/**
 * Environments deployed to one Docker Engine share its networks and its host ports: two with the same subnet, or
 * the same host port on the same address, cannot both be up (Docker refuses the second network or container at
 * apply time, halfway through). Found here, before anything is synthesized, with both files and keys named.
 */
import { dockerHostKey } from "../constructs/lib/docker-host";
import { farmSubnets, subnetKeysInUse } from "../constructs/networks/address-plan";
import { networksInUse } from "./schema";
import { overlaps, parseCidr } from "../constructs/networks/ipv4";
import { Environment, keyPath } from "./load";
import { publishedPorts, sameSocket } from "./ports";

type KeyAt = readonly (string | number)[];

interface Claim {
  readonly at: KeyAt;
  readonly value: string;
}

function subnetsOf(env: Environment): Array<Claim & { subnet: string }> {
  const subnets = farmSubnets(env.config.network);
  return subnetKeysInUse(networksInUse(env.config)).map((key) => ({ at: ["network", key], value: subnets[key], subnet: subnets[key] }));
}

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
      for (const x of publishedPorts(a.config)) {
        for (const y of publishedPorts(b.config)) {
          if (sameSocket(x, y)) {
            problems.push(`${where(a, x.at)}: host port ${x.value} is also published by ${where(b, y.at)} (${y.value}) on ${host}; give one of them another port or address`);
          }
        }
      }
    }
  }
  return problems;
}
