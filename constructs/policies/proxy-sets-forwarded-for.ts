import { FarmContainer } from "../lib/farm-container";
import { PolicyRule } from "./policy-rule";

/** What a reverse proxy writes when it takes the client's own X-Forwarded-For (and passes it on) instead of its peer. */
const TRUSTS_CLIENT = /\$proxy_add_x_forwarded_for|\breal_ip_header\b|\bset_real_ip_from\b|proxy_set_header\s+X-Forwarded-For\s+\$http_x_forwarded_for/i;

export const proxySetsForwardedFor: PolicyRule = {
  id: "FARM-PROXY-SETS-FORWARDED-FOR",
  info: "A reverse proxy's nginx.conf passes on a client-supplied X-Forwarded-For, or does not set it from its peer.",
  explanation:
    "The balancer behind the DMZ proxy trusts the proxy's X-Forwarded-For as the client's address (logs, limits, Creatio's own checks); a value the client wrote would let anyone claim any address.",
  check: (node) => {
    if (!(node instanceof FarmContainer) || !node.fileFormats().has("nginx")) return "not-applicable";
    const confs = node.renderedFiles().filter((f) => f.format === "nginx");
    if (confs.length === 0) return "not-applicable";
    const ok = confs.every((f) => !TRUSTS_CLIENT.test(f.content) && /^\s*proxy_set_header X-Forwarded-For \$remote_addr;$/m.test(f.content));
    return ok ? "compliant" : "non-compliant";
  },
};
