import { PEERS_CAPABILITY, PROTOCOL_VERSION, encodeHello } from '@tunnel/tunnel-protocol';
import { PROCESS_NONCE } from './process-nonce.ts';

/** What this client declares to the exit servers. */
export interface ClientDeclaration {
  /** Its id (--id, else the host name). */
  readonly clientId: string;
  /** Hostnames it serves (none with a default upstream: then every host). */
  readonly hostnames: string[];
  /** Public TCP ports it forwards. */
  readonly tcpPorts: number[];
  /** It has an HTTP upstream; without one the server must not route HTTP here. */
  readonly servesHttp: boolean;
  /** Balancing weight (--weight; relative share, 1 = ordinary). */
  readonly weight: number;
}

/** The hello header this client sends with every dial. */
export function clientHello(d: ClientDeclaration): string {
  return encodeHello({
    version: PROTOCOL_VERSION,
    clientId: d.clientId,
    hostnames: d.hostnames,
    tcpPorts: d.tcpPorts,
    capabilities: [...(d.servesHttp ? ['http', 'upgrade', 'tcp'] : ['tcp']), PEERS_CAPABILITY],
    // Left out at 1: servers older than the field refuse unknown hello fields.
    ...(d.weight !== 1 ? { weight: d.weight } : {}),
    nonce: PROCESS_NONCE,
  });
}
