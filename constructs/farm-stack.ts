import { Construct } from "constructs";
import { Aspects, LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import type { FarmConfig } from "../config/schema";
import { HaproxyBalancer } from "./balancer/haproxy-balancer";
import { CreatioNodeSet } from "./creatio-nodes/creatio-node-set";
import { PostgresDatabase } from "./database/postgres-database";
import { FarmNetwork } from "./networks/farm-network";
import { FarmPolicies } from "./policies/farm-policies";
import { RedisCache } from "./redis/redis-cache";
import { FarmSecrets } from "./secrets/farm-secrets";

/**
 * One environment of the farm: `config/<env>.yaml` → stack `<env>`.
 *
 * Construct ids below are Terraform addresses: renaming one destroys and recreates what it names.
 */
export class CreatioFarmStack extends TerraformStack {
  public readonly nodes: CreatioNodeSet;
  public readonly balancer: HaproxyBalancer;
  public readonly redis: RedisCache;
  public readonly database: PostgresDatabase;
  /** Generated secrets, for components added beside the farm (a portal node set). */
  public readonly secrets: FarmSecrets;

  constructor(scope: Construct, environment: string, config: FarmConfig) {
    super(scope, environment);
    // Relative to the stack's working directory (cdktf.out/stacks/<env>): state lives outside the synth output,
    // in ./state/, so re-synthesizing can never touch it and no absolute path leaks into cdk.tf.json.
    new LocalBackend(this, { path: `../../../state/${environment}.tfstate` });
    new DockerProvider(this, "docker", {});
    new RandomProvider(this, "random", {});

    const secrets = (this.secrets = new FarmSecrets(this, "secrets"));
    const app = new FarmNetwork(this, "network-app", { name: `${environment}-app`, subnet: config.network.appSubnet });
    const data = new FarmNetwork(this, "network-data", {
      name: `${environment}-data`,
      subnet: config.network.dataSubnet,
      internal: true,
    });

    this.database = new PostgresDatabase(this, "database", { environment, network: data, secrets, ...config.database });
    this.redis = new RedisCache(this, "redis", { environment, network: data, secrets, ...config.redis });
    this.nodes = new CreatioNodeSet(this, "creatio", {
      environment,
      secrets,
      image: config.creatio.image,
      nodes: config.creatio.nodes,
      tenantId: config.creatio.tenantId,
      httpPort: config.creatio.httpPort,
      appDir: config.creatio.appDir,
    });
    this.balancer = new HaproxyBalancer(this, "balancer", { environment, network: app, secrets, ...config.balancer });

    this.balancer.addBackend(this.nodes);
    this.redis.allowFrom(this.nodes);
    this.database.allowFrom(this.nodes);

    Aspects.of(this).add(new FarmPolicies());

    const { bindAddress, httpPort, tls, stats } = config.balancer;
    const host = bindAddress === "0.0.0.0" ? "localhost" : bindAddress;
    new TerraformOutput(this, "url", { value: tls ? `https://${host}:${tls.port}/` : `http://${host}:${httpPort}/` });
    new TerraformOutput(this, "stats_url", { value: `http://${stats.bindAddress}:${stats.port}${stats.uri}` });
    new TerraformOutput(this, "metrics_url", { value: `http://${stats.bindAddress}:${stats.port}${stats.metricsPath}` });
    new TerraformOutput(this, "stats_user", { value: config.balancer.stats.user });
    new TerraformOutput(this, "stats_password", { value: secrets.reference("stats-password"), sensitive: true });
    new TerraformOutput(this, "database_superuser_password", {
      value: secrets.reference("database-superuser-password"),
      sensitive: true,
    });
  }
}
