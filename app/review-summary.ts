/**
 * What a synth changed in one stack, in one line, from the previous cdk.tf.json and the new one, without
 * Terraform: containers added, removed and replaced (with the provisioned files or settings that changed),
 * networks, volumes and published host ports. A reviewer reads it before any plan; the plan has the last word
 * (a few container settings, such as memory, are updated in place by the provider rather than replaced).
 * Deterministic: sorted, no timestamps.
 */

import { byCodeUnit } from "../constructs/lib/order";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function resources(tf: Json | undefined, type: string): Record<string, Json> {
  return (tf?.resource?.[type] as Record<string, Json> | undefined) ?? {};
}

/** An upload's content, with a whole-content `${local.x}` (a shared file) replaced by the local's text. */
function contentOf(tf: Json, content: string): string {
  const local = /^\$\{local\.([\w-]+)\}$/.exec(content);
  return local ? String(tf.locals?.[local[1]] ?? content) : content;
}

const basename = (file: string) => file.slice(file.lastIndexOf("/") + 1);

/**
 * Resources other than containers and images whose configuration changed: a container that refers to one (a
 * generated certificate in an upload) is replaced with it, though its own text is the same.
 */
function changedReferences(oldTf: Json, newTf: Json): string[] {
  const changed: string[] = [];
  for (const [type, list] of Object.entries((newTf.resource ?? {}) as Record<string, Record<string, Json>>)) {
    if (type === "docker_container" || type === "docker_image") continue;
    for (const [id, config] of Object.entries(list)) {
      const before = resources(oldTf, type)[id];
      if (before && JSON.stringify(before) !== JSON.stringify(config)) changed.push(`${type}.${id}`);
    }
  }
  return changed;
}

/** `tls_locally_signed_cert.secrets_redis-tls_server_CD213FE0` → `tls_locally_signed_cert secrets_redis-tls_server`. */
const readableAddress = (address: string) => address.replace(".", " ").replace(/_[0-9A-F]{8}$/, "");

/** Why container `id` is not what it was: the files whose content changed, then the other settings. */
function containerChanges(before: Json, after: Json, oldTf: Json, newTf: Json, references: readonly string[]): string[] {
  const uploads = (tf: Json, c: Json) => new Map<string, string>(((c.upload ?? []) as Json[]).map((u) => [u.file, `${u.permissions}:${contentOf(tf, u.content)}`]));
  const [was, is] = [uploads(oldTf, before), uploads(newTf, after)];
  const files = [...new Set([...was.keys(), ...is.keys()])].filter((f) => was.get(f) !== is.get(f)).sort(byCodeUnit).map(basename);
  const settings = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    // depends_on orders creation; a change to it alone replaces nothing.
    .filter((k) => k !== "upload" && k !== "//" && k !== "depends_on" && JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .sort(byCodeUnit);
  // The image attribute is a reference to a docker_image: what changed is that image (e.g. a new tag).
  const imageRef = /^\$\{docker_image\.([\w-]+)\.image_id\}$/.exec(String(after.image ?? ""));
  const image = imageRef && JSON.stringify(resources(oldTf, "docker_image")[imageRef[1]]) !== JSON.stringify(resources(newTf, "docker_image")[imageRef[1]]);
  const text = JSON.stringify(after);
  const referred = references.filter((r) => text.includes(`${r}.`)).map(readableAddress);
  return [...files, ...(image && !settings.includes("image") ? ["image"] : []), ...settings, ...referred];
}

function publishedPorts(tf: Json | undefined): Set<string> {
  const ports = Object.values(resources(tf, "docker_container")).flatMap((c) => ((c.ports ?? []) as Json[]).map((p) => `${p.ip ?? "0.0.0.0"}:${p.external}`));
  return new Set(ports);
}

function diffNames(was: Set<string>, is: Set<string>): { added: string[]; removed: string[] } {
  return { added: [...is].filter((x) => !was.has(x)).sort(byCodeUnit), removed: [...was].filter((x) => !is.has(x)).sort(byCodeUnit) };
}

const signed = ({ added, removed }: { added: string[]; removed: string[] }) => [...added.map((x) => `+${x}`), ...removed.map((x) => `-${x}`)].join(" ");

/** One line: `dev: 1 container replaced (haproxy-config: haproxy.cfg), 1 added (node-3)`. */
export function reviewSummary(stack: string, oldTf: Json | undefined, newTf: Json): string {
  const short = (name: string) => (name.startsWith(`${stack}-`) ? name.slice(stack.length + 1) : name);
  const containers = (tf: Json | undefined) =>
    new Map(Object.entries(resources(tf, "docker_container")).map(([id, c]) => [id, c] as const));
  const names = (tf: Json | undefined, type: string) => new Set(Object.values(resources(tf, type)).map((r) => String(r.name)));
  if (!oldTf) {
    const ports = [...publishedPorts(newTf)].sort(byCodeUnit);
    return (
      `${stack}: new (${plural(containers(newTf).size, "container")}, ${plural(names(newTf, "docker_network").size, "network")}, ` +
      `${plural(names(newTf, "docker_volume").size, "volume")}${ports.length ? `; ports ${ports.join(", ")}` : ""})`
    );
  }
  const [was, is] = [containers(oldTf), containers(newTf)];
  const added = [...is.keys()].filter((id) => !was.has(id)).map((id) => short(is.get(id)!.name)).sort(byCodeUnit);
  const removed = [...was.keys()].filter((id) => !is.has(id)).map((id) => short(was.get(id)!.name)).sort(byCodeUnit);
  const references = changedReferences(oldTf, newTf);
  const replaced = [...is.keys()]
    .filter((id) => was.has(id))
    .map((id) => [short(is.get(id)!.name), containerChanges(was.get(id)!, is.get(id)!, oldTf, newTf, references)] as const)
    .filter(([, why]) => why.length)
    .sort(([a], [b]) => byCodeUnit(a, b));
  const parts: string[] = [];
  // Another Docker host: the next apply creates everything there (and stops managing what runs on the old one).
  const host = (tf: Json | undefined) => String(([] as Json[]).concat(tf?.provider?.docker ?? [])[0]?.host ?? "default");
  if (host(oldTf) !== host(newTf)) parts.push(`Docker host ${host(oldTf)} → ${host(newTf)}`);
  if (replaced.length) parts.push(`${plural(replaced.length, "container")} replaced (${replaced.map(([n, why]) => `${n}: ${why.join(", ")}`).join("; ")})`);
  if (added.length) parts.push(`${added.length} added (${added.join(", ")})`);
  if (removed.length) parts.push(`${removed.length} removed (${removed.join(", ")})`);
  const networks = diffNames(names(oldTf, "docker_network"), names(newTf, "docker_network"));
  const changedNetworks = Object.entries(resources(newTf, "docker_network"))
    .filter(([id, n]) => resources(oldTf, "docker_network")[id] && JSON.stringify(resources(oldTf, "docker_network")[id]) !== JSON.stringify(n))
    .map(([, n]) => String(n.name))
    .sort(byCodeUnit);
  if (networks.added.length || networks.removed.length) parts.push(`networks ${signed(networks)}`);
  if (changedNetworks.length) parts.push(`networks replaced (${changedNetworks.join(", ")})`);
  const volumes = diffNames(names(oldTf, "docker_volume"), names(newTf, "docker_volume"));
  if (volumes.added.length || volumes.removed.length) parts.push(`volumes ${signed(volumes)}`);
  const ports = diffNames(publishedPorts(oldTf), publishedPorts(newTf));
  if (ports.added.length || ports.removed.length) parts.push(`ports ${signed(ports)}`);
  if (!parts.length) {
    return JSON.stringify(oldTf) === JSON.stringify(newTf) ? `${stack}: no change` : `${stack}: no container, network, volume or port change`;
  }
  return `${stack}: ${parts.join(", ")}`;
}
