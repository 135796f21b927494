/** What a component's containers may use of the Docker host. */
export interface ResourceProps {
  /** Memory limit in MB; no swap beyond it. @default - the component's own (see its props) */
  readonly memoryMb?: number;
  /** CPU limit in cores, e.g. 1.5 (Docker refuses more than the host has). @default - none */
  readonly cpus?: number;
}
