/**
 * The part of appsettings.json the farm owns. At container start the patch step replaces these top-level keys
 * of the image's appsettings.json and keeps everything else (Kestrel endpoints, certificates) as shipped.
 * Pure: model in, JSON text out.
 */
import { stableJson } from "../lib/template";

export interface AppsettingsOverlayModel {
  /** Addresses of the proxies that talk to the nodes directly; X-Forwarded-For is honoured from these only. */
  readonly knownProxies: readonly string[];
}

export function renderAppsettingsOverlay(model: AppsettingsOverlayModel): string {
  if (model.knownProxies.length === 0) {
    // An empty KnownProxiesIP makes Creatio trust X-Forwarded-For from anyone: every client could forge its address.
    throw new Error("knownProxies must list at least one proxy address");
  }
  return stableJson({
    ForwardedHeaders: {
      Enable: true,
      ForwardedForHeaderName: "X-Forwarded-For",
      KnownProxiesIP: [...new Set(model.knownProxies)].sort(),
      // One trusted hop: the balancer writes the client address itself, so only the last value counts.
      ForwardLimit: 1,
    },
  });
}
