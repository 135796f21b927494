/**
 * What the Docker tier's applier implements, attribute by attribute. A resource type, attribute, nested block or
 * lifecycle setting that is not listed here fails the run with its name, so the tier can never silently skip
 * something Terraform would apply. Extend the implementation (resources.ts) and this list together.
 */

type Scalar = "string" | "number" | "bool";
/** A nested block: cdk.tf.json writes a single block as an object and repeated blocks as an array. */
interface Block {
  readonly block: Shape;
}
type Field = Scalar | "map" | readonly [Scalar] | Block;
export type Shape = Readonly<Record<string, Field>>;

const block = (shape: Shape): Block => ({ block: shape });

export const IMPLEMENTED: Readonly<Record<string, Shape>> = {
  random_password: { length: "number", special: "bool", min_numeric: "number", min_upper: "number", min_lower: "number" },
  // hashicorp/tls: ECDSA P-256 keys only, subjects by common name.
  tls_private_key: { algorithm: "string", ecdsa_curve: "string" },
  tls_self_signed_cert: {
    private_key_pem: "string",
    subject: block({ common_name: "string" }),
    is_ca_certificate: "bool",
    allowed_uses: ["string"],
    validity_period_hours: "number",
    // Renewal is what a later plan decides; a create-only applier has nothing to do for it.
    early_renewal_hours: "number",
  },
  tls_cert_request: { private_key_pem: "string", subject: block({ common_name: "string" }), dns_names: ["string"] },
  tls_locally_signed_cert: {
    cert_request_pem: "string",
    ca_private_key_pem: "string",
    ca_cert_pem: "string",
    allowed_uses: ["string"],
    validity_period_hours: "number",
    early_renewal_hours: "number",
  },
  docker_image: {
    name: "string",
    keep_locally: "bool",
    // Only ever read as "replace when they change", which a create-only applier has nothing to do for.
    triggers: "map",
    build: block({ context: "string", dockerfile: "string", no_cache: "bool" }),
  },
  docker_network: {
    name: "string",
    driver: "string",
    internal: "bool",
    ipam_config: block({ subnet: "string", gateway: "string" }),
  },
  docker_volume: { name: "string" },
  docker_container: {
    name: "string",
    image: "string",
    restart: "string",
    entrypoint: ["string"],
    command: ["string"],
    env: ["string"],
    working_dir: "string",
    stop_signal: "string",
    stop_timeout: "number",
    destroy_grace_seconds: "number",
    shm_size: "number",
    log_driver: "string",
    log_opts: "map",
    volumes: block({ container_path: "string", volume_name: "string", host_path: "string", read_only: "bool" }),
    ports: block({ internal: "number", external: "number", ip: "string", protocol: "string" }),
    ulimit: block({ name: "string", soft: "number", hard: "number" }),
    healthcheck: block({ test: ["string"], interval: "string", timeout: "string", start_period: "string", retries: "number" }),
    networks_advanced: block({ name: "string", ipv4_address: "string", aliases: ["string"] }),
    upload: block({ file: "string", content: "string", executable: "bool", permissions: "string" }),
    capabilities: block({ add: ["string"], drop: ["string"] }),
    security_opts: ["string"],
    memory: "number",
    memory_swap: "number",
    cpus: "string",
    user: "string",
    pid_mode: "string",
    network_mode: "string",
    read_only: "bool",
    // A one-shot job: the apply waits for it (attach), it may stop (must_run false), its output is kept (logs).
    must_run: "bool",
    attach: "bool",
    logs: "bool",
  },
};

/** Meta-arguments every resource may carry. */
const META = new Set(["//", "depends_on", "lifecycle"]);
const LIFECYCLE: Shape = {
  prevent_destroy: "bool",
  create_before_destroy: "bool",
  // Checked after create; only the forms listed in applier.ts's CONDITIONS are implemented.
  postcondition: block({ condition: "string", error_message: "string" }),
};

/** Every problem with one resource's configuration, each naming the attribute path. */
export function unimplemented(type: string, config: Record<string, unknown>): string[] {
  const shape = IMPLEMENTED[type];
  if (!shape) return [`resource type ${type}`];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (key === "lifecycle") problems.push(...check(LIFECYCLE, value, `${type}.lifecycle`));
    else if (!META.has(key)) problems.push(...checkField(shape[key], value, `${type}.${key}`));
  }
  return problems;
}

function check(shape: Shape, value: unknown, where: string): string[] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return [`${where} (expected a block)`];
  return Object.entries(value).flatMap(([k, v]) => checkField(shape[k], v, `${where}.${k}`));
}

function checkField(field: Field | undefined, value: unknown, where: string): string[] {
  if (field === undefined) return [where];
  if (typeof field === "object" && "block" in field) {
    const items = Array.isArray(value) ? value : [value];
    return items.flatMap((item) => check(field.block, item, where));
  }
  if (field === "map") return value && typeof value === "object" && !Array.isArray(value) ? [] : [`${where} (expected a map)`];
  if (Array.isArray(field)) return Array.isArray(value) && value.every((v) => typeOk(field[0], v)) ? [] : [`${where} (expected a list of ${field[0]})`];
  return typeOk(field as Scalar, value) ? [] : [`${where} (expected a ${field})`];
}

function typeOk(scalar: Scalar, value: unknown): boolean {
  if (scalar === "bool") return typeof value === "boolean";
  // Numbers may arrive as references resolved to text; those are checked after resolution by the resource code.
  if (scalar === "number") return typeof value === "number";
  return typeof value === "string";
}
