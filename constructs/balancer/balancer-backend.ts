import { IConstruct } from "constructs";
import { FarmNetwork } from "../networks/farm-network";

/** One server of a backend, addressed on the balancer's network. */
export interface BackendServer {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** roundrobin weight, 1..256. */
  readonly weight: number;
}

/**
 * What a balancer can serve (`balancer.addBackend(backend)`): a set of servers. The balancer attaches them to its
 * network and tells them its address, which they trust for X-Forwarded-For.
 */
export interface IBalancerBackend extends IConstruct {
  /** @internal Called by the balancer's `addBackend` only: attach, trust `proxyAddress`, return the servers. */
  _connectBalancer(network: FarmNetwork, proxyAddress: string): readonly BackendServer[];
}
