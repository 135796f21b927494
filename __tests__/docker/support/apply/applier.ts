/**
 * Applies a synthesized `cdk.tf.json` to the real Docker Engine, for the Docker tier only: no Terraform binary or
 * provider can be installed here. It is deliberately strict: a resource type, attribute, block, lifecycle
 * setting, template expression or attribute reference it does not implement fails the whole run by name before
 * anything is created, so the tier can never skip what Terraform would apply (schema.ts lists what it does).
 *
 * Resources are created one at a time in dependency order (references and depends_on), with random passwords
 * generated as hashicorp/random does; references and Terraform's template escapes are resolved as Terraform
 * resolves them. State (ids, generated values) can be saved to a file and loaded by another process.
 */
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import { Context, Created, RESOURCE_TYPES } from "./resources";
import { unimplemented } from "./schema";
import { Reference, references, resolve } from "./template";

interface TerraformJson {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown; sensitive?: boolean }>;
  readonly provider?: Record<string, unknown[]>;
  readonly terraform?: unknown;
  readonly data?: unknown;
  readonly locals?: Record<string, unknown>;
  readonly variable?: Record<string, { type?: string; default?: unknown; sensitive?: boolean; nullable?: boolean; description?: string }>;
  readonly module?: unknown;
}

interface ResourceState {
  readonly address: string;
  readonly created: Created;
  /** The configuration as applied, references resolved. */
  readonly config: Record<string, unknown>;
}

export interface ApplierState {
  readonly stackDir: string;
  readonly resources: Record<string, ResourceState>;
  /** The values given for the stack's variables (`-var`/`TF_VAR_`), kept like Terraform keeps what resources used. */
  readonly variables?: Record<string, string>;
}

interface Planned {
  readonly address: string;
  readonly type: string;
  readonly config: Record<string, unknown>;
  readonly dependsOn: readonly string[];
}

const PROVIDERS = new Set(["docker", "random", "tls"]);

export class Applier {
  private readonly plan: readonly Planned[];
  private readonly outputsConfig: Record<string, { value: unknown; sensitive?: boolean }>;
  private readonly locals: Record<string, unknown>;
  private state: Record<string, ResourceState>;
  private readonly variables: Record<string, string>;

  /** Reads and checks `<stackDir>/cdk.tf.json`; throws, naming every unimplemented thing, before touching Docker. */
  constructor(
    private readonly docker: Docker,
    private readonly stackDir: string,
    state: ApplierState | undefined = undefined,
    /** Values of the stack's variables, as `-var name=value` gives them. @default - those the state holds */
    variables: Record<string, string> = {},
  ) {
    const tf = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as TerraformJson;
    this.locals = tf.locals ?? {};
    const problems: string[] = [];
    for (const key of ["data", "module"] as const) if (tf[key] !== undefined) problems.push(`top-level "${key}"`);
    // Variables of type string: a value given, else the one the state holds, else the default; none is an error,
    // as Terraform's "No value for required variable".
    this.variables = {};
    for (const [name, v] of Object.entries(tf.variable ?? {})) {
      const unknown = Object.keys(v).filter((k) => !["type", "default", "sensitive", "nullable", "description"].includes(k));
      if (unknown.length || (v.type ?? "string") !== "string") problems.push(`variable ${name} (${unknown.join(", ") || `type ${v.type}`})`);
      const value = variables[name] ?? state?.variables?.[name] ?? (v.default === undefined ? undefined : String(v.default));
      if (value === undefined) problems.push(`no value for required variable ${name}`);
      else this.variables[name] = value;
    }
    for (const [name, blocks] of Object.entries(tf.provider ?? {})) {
      if (!PROVIDERS.has(name)) problems.push(`provider ${name}`);
      else if (blocks.some((b) => Object.keys(b as object).length)) problems.push(`provider ${name} settings`);
    }
    const plan: Planned[] = [];
    for (const [type, byName] of Object.entries(tf.resource ?? {})) {
      for (const [name, config] of Object.entries(byName)) {
        const address = `${type}.${name}`;
        problems.push(...unimplemented(type, config).map((p) => `${p} (${address})`));
        // Lifecycle conditions reference `self` and are evaluated after create (see evaluateCondition).
        const { lifecycle: _conditions, ...body } = config;
        const refs = this.resourceReferences(body, address, problems);
        const explicit = ((config.depends_on as string[] | undefined) ?? []).map(String);
        plan.push({ address, type, config, dependsOn: [...new Set([...refs, ...explicit])].sort() });
      }
    }
    const known = new Set(plan.map((p) => p.address));
    for (const p of plan) for (const d of p.dependsOn) if (!known.has(d)) problems.push(`${p.address} refers to ${d}, which is not in the stack`);
    if (problems.length) throw new Error(`the Docker tier's applier does not implement:\n  ${[...new Set(problems)].join("\n  ")}`);
    this.plan = order(plan);
    this.outputsConfig = tf.output ?? {};
    this.state = { ...(state?.resources ?? {}) };
  }

  /** Creates every resource not yet in state, in dependency order. A failure leaves what was created in state. */
  async apply(log: (line: string) => void = () => {}): Promise<void> {
    for (const p of this.plan) {
      if (this.state[p.address]) continue;
      await this.create(p, log);
    }
  }

  /**
   * `terraform apply` after the configuration changed (this applier built on the new `cdk.tf.json` with the old
   * state): resources no longer configured are destroyed, new ones created, and every one whose configuration
   * (references resolved) differs from what was applied is replaced; the others are left alone. The provider
   * could update a few container attributes in place (memory, restart policy); the farm's changes that this tier
   * exercises (provisioned files, references to replaced resources) force a new resource there too.
   */
  async update(log: (line: string) => void = () => {}): Promise<void> {
    const configured = new Set(this.plan.map((p) => p.address));
    for (const address of Object.keys(this.state).reverse()) {
      if (configured.has(address)) continue;
      if ((this.state[address].config.lifecycle as { prevent_destroy?: boolean } | undefined)?.prevent_destroy) {
        throw new Error(`${address} has prevent_destroy: Terraform would refuse to destroy it`);
      }
      log(`destroy ${address}`);
      await this.destroyOne(address);
    }
    for (const p of this.plan) {
      const applied = this.state[p.address];
      if (!applied) await this.create(p, log);
      else if (canonical(this.resolvedConfig(p)) !== canonical(applied.config)) await this.replace(p.address, log);
    }
  }

  /**
   * Destroys one resource and creates it again from the same configuration (`terraform apply -replace`); with
   * create_before_destroy, the new one is created first.
   */
  async replace(address: string, log: (line: string) => void = () => {}): Promise<void> {
    const p = this.plan.find((x) => x.address === address);
    if (!p) throw new Error(`no resource ${address}`);
    const lifecycle = (p.config.lifecycle ?? {}) as { prevent_destroy?: boolean; create_before_destroy?: boolean };
    if (lifecycle.prevent_destroy) throw new Error(`${address} has prevent_destroy: Terraform would refuse to replace it`);
    if (lifecycle.create_before_destroy) {
      const old = this.state[address];
      delete this.state[address];
      await this.create(p, log);
      if (old) await RESOURCE_TYPES[p.type].destroy({ docker: this.docker, stackDir: this.stackDir }, old.created, old.config);
      return;
    }
    await this.destroyOne(address);
    await this.create(p, log);
  }

  /**
   * Destroys everything in state, dependents first. Terraform refuses to destroy a resource with prevent_destroy;
   * `ignorePreventDestroy` is the test's own teardown of its throwaway environment.
   */
  async destroy(options: { ignorePreventDestroy?: boolean } = {}): Promise<void> {
    const errors: string[] = [];
    for (const p of [...this.plan].reverse()) {
      if (!this.state[p.address]) continue;
      if (!options.ignorePreventDestroy && (p.config.lifecycle as { prevent_destroy?: boolean } | undefined)?.prevent_destroy) {
        errors.push(`${p.address} has prevent_destroy`);
        continue;
      }
      await this.destroyOne(p.address).catch((e: Error) => errors.push(`${p.address}: ${e.message}`));
    }
    if (errors.length) throw new Error(`destroy left resources behind:\n  ${errors.join("\n  ")}`);
  }

  /** Terraform outputs, sensitive ones included. */
  outputs(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.outputsConfig).map(([k, o]) => [k, String(resolve(o.value, (r) => this.lookup(r, `output.${k}`), `output.${k}`))]));
  }

  /** The id and exported attributes of a created resource. */
  resource(address: string): Created {
    const s = this.state[address];
    if (!s) throw new Error(`${address} is not in state`);
    return s.created;
  }

  /** Addresses of one resource type, in plan order. */
  addresses(type: string): string[] {
    return this.plan.filter((p) => p.type === type).map((p) => p.address);
  }

  /** The applied (resolved) configuration of a resource. */
  config(address: string): Record<string, unknown> {
    const s = this.state[address];
    if (!s) throw new Error(`${address} is not in state`);
    return s.config;
  }

  save(file: string): void {
    const state: ApplierState = { stackDir: this.stackDir, resources: this.state, variables: this.variables };
    fs.writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
  }

  static load(docker: Docker, file: string): Applier {
    const state = JSON.parse(fs.readFileSync(file, "utf8")) as ApplierState;
    return new Applier(docker, state.stackDir, state);
  }

  /** The configuration as it would be applied now: references resolved against the current state. */
  private resolvedConfig(p: Planned): Record<string, unknown> {
    const { "//": _meta, depends_on: _deps, lifecycle: _lifecycle, ...rest } = p.config;
    return { ...resolve(rest, (r) => this.lookup(r, p.address), p.address), lifecycle: p.config.lifecycle };
  }

  private async create(p: Planned, log: (line: string) => void): Promise<void> {
    const { lifecycle: _lifecycle, ...config } = this.resolvedConfig(p);
    log(`create ${p.address}`);
    const ctx: Context = { docker: this.docker, stackDir: this.stackDir };
    const created = await RESOURCE_TYPES[p.type].create(ctx, config);
    this.state[p.address] = { address: p.address, created, config: { ...config, lifecycle: p.config.lifecycle } };
    // Terraform checks postconditions after the create; a false one fails the apply (the resource stays in state).
    const lifecycle = (p.config.lifecycle ?? {}) as { postcondition?: Array<{ condition: string; error_message: string }> };
    for (const post of lifecycle.postcondition ?? []) {
      if (!evaluateCondition(post.condition, created.attributes, p.address)) {
        throw new Error(`Resource postcondition failed for ${p.address}: ${post.error_message}`);
      }
    }
  }

  private async destroyOne(address: string): Promise<void> {
    const s = this.state[address];
    if (!s) return;
    const type = address.slice(0, address.indexOf("."));
    await RESOURCE_TYPES[type].destroy({ docker: this.docker, stackDir: this.stackDir }, s.created, s.config);
    delete this.state[address];
  }

  /** Resource addresses a value refers to, through the locals it uses (which Terraform evaluates in place). */
  private resourceReferences(value: unknown, where: string, problems: string[], via: readonly string[] = []): string[] {
    return references(value, where).flatMap((r) => {
      if (r.type === "var") {
        if (!(r.name in this.variables)) problems.push(`${where} refers to var.${r.name}, which has no value`);
        return [];
      }
      if (r.type !== "local") return [`${r.type}.${r.name}`];
      if (!(r.name in this.locals)) {
        problems.push(`${where} refers to local.${r.name}, which is not in the stack`);
        return [];
      }
      if (via.includes(r.name)) {
        problems.push(`local.${r.name} refers to itself`);
        return [];
      }
      return this.resourceReferences(this.locals[r.name], `local.${r.name}`, problems, [...via, r.name]);
    });
  }

  private lookup(ref: Reference, where: string): string {
    if (ref.type === "var") {
      const value = this.variables[ref.name];
      if (value === undefined) throw new Error(`${where}: var.${ref.name} has no value`);
      return value;
    }
    if (ref.type === "local") {
      return String(resolve(this.locals[ref.name], (r) => this.lookup(r, `local.${ref.name}`), `local.${ref.name}`));
    }
    const address = `${ref.type}.${ref.name}`;
    const s = this.state[address];
    if (!s) throw new Error(`${where}: ${address} is not created yet`);
    const value = s.created.attributes[ref.attribute];
    if (value === undefined) throw new Error(`${where}: the attribute ${address}.${ref.attribute} is not implemented by the Docker tier's applier`);
    return value;
  }
}

/** The condition forms the applier evaluates: `${self.<attribute> == <integer>}`. Anything else is refused by name. */
const CONDITIONS = /^\$\{self\.([a-z_]+) == (-?\d+)\}$/;

function evaluateCondition(condition: string, attributes: Record<string, string>, where: string): boolean {
  const m = CONDITIONS.exec(condition);
  if (!m) throw new Error(`${where}: the condition ${condition} is not implemented by the Docker tier's applier`);
  const value = attributes[m[1]];
  if (value === undefined) throw new Error(`${where}: the condition reads self.${m[1]}, which the applier does not set`);
  return Number(value) === Number(m[2]);
}

/** Dependency order; among resources whose dependencies are met, address order, so every run is the same. */
function order(plan: Planned[]): Planned[] {
  const done = new Set<string>();
  const out: Planned[] = [];
  let pending = [...plan].sort((a, b) => (a.address < b.address ? -1 : 1));
  while (pending.length) {
    const ready = pending.filter((p) => p.dependsOn.every((d) => done.has(d)));
    if (!ready.length) throw new Error(`dependency cycle among ${pending.map((p) => p.address).join(", ")}`);
    for (const p of ready) {
      out.push(p);
      done.add(p.address);
    }
    pending = pending.filter((p) => !done.has(p.address));
  }
  return out;
}

/** JSON with object keys sorted, so two configurations compare by content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
