/** The balancer's own view of the nodes, read on the ports it publishes on 127.0.0.1. */
import { Deployment } from "./farm";
import { get } from "./http";

/**
 * `{ "be_creatio/node-1": "UP", "be_creatio_msg/node-1": "UP", … }` from the Prometheus endpoint: no credentials,
 * so no bcrypt check per call, and cheap enough to poll every 100 ms while timing a failover.
 */
export async function serverStates(d: Deployment): Promise<Record<string, string>> {
  const res = await get(d.statsPort, `${d.config.balancer.stats?.metricsPath ?? "/metrics"}?scope=server`);
  if (res.status !== 200) throw new Error(`metrics answered ${res.status}`);
  const out: Record<string, string> = {};
  for (const m of res.body.matchAll(/^haproxy_server_status\{proxy="([^"]+)",server="([^"]+)",state="([A-Z]+)"\} 1$/gm)) {
    out[`${m[1]}/${m[2]}`] = m[3];
  }
  return out;
}

/** The same view from the stats page, signed in with the generated user and password (Terraform outputs). */
export async function statsPageStates(d: Deployment): Promise<Record<string, string>> {
  const auth = Buffer.from(`${d.outputs.stats_user}:${d.outputs.stats_password}`).toString("base64");
  const res = await get(d.statsPort, `${d.config.balancer.stats?.uri ?? "/haproxy_stats"};csv`, { authorization: `Basic ${auth}` });
  if (res.status !== 200) throw new Error(`stats page answered ${res.status}`);
  const [header, ...rows] = res.body.trim().split("\n");
  const columns = header.replace(/^# /, "").split(",");
  const [px, sv, status] = ["pxname", "svname", "status"].map((c) => columns.indexOf(c));
  const out: Record<string, string> = {};
  for (const row of rows) {
    const cells = row.split(",");
    if (cells[px].startsWith("be_") && cells[sv] !== "BACKEND") out[`${cells[px]}/${cells[sv]}`] = cells[status];
  }
  return out;
}
