/**
 * The part of appsettings.json the farm owns. The patch step (at image build and at every start) replaces these
 * top-level keys of the image's appsettings.json and keeps everything else (Kestrel endpoints, certificates) as shipped.
 * Pure: model in, JSON text out.
 */
import { stableJson } from "../lib/template";

export interface AppsettingsOverlayModel {
  /** Addresses of the proxies that talk to the nodes directly; X-Forwarded-For is honoured from these only. */
  readonly knownProxies: readonly string[];
  /** One DataProtection key ring for every node of the set. */
  readonly dataProtection: {
    /** Discriminator of protected payloads: identical on every node that must read the others' cookies. */
    readonly applicationName: string;
    /** Absolute path of the key directory, the mount point of the set's shared key volume. */
    readonly keysDirectory: string;
  };
}

export function renderAppsettingsOverlay(model: AppsettingsOverlayModel): string {
  if (model.knownProxies.length === 0) {
    // An empty KnownProxiesIP makes Creatio trust X-Forwarded-For from anyone: every client could forge its address.
    throw new Error("knownProxies must list at least one proxy address");
  }
  return stableJson({
    // configureWebFarmMode switches CustomizeDataProtection on; the directory and name make the ring shared.
    DataProtection: {
      ApplicationName: model.dataProtection.applicationName,
      CustomizeDataProtection: true,
      KeysDirectory: model.dataProtection.keysDirectory,
    },
    ForwardedHeaders: {
      Enable: true,
      ForwardedForHeaderName: "X-Forwarded-For",
      KnownProxiesIP: [...new Set(model.knownProxies)].sort(),
      // One trusted hop: the balancer writes the client address itself, so only the last value counts.
      ForwardLimit: 1,
    },
  });
}
