import { isIPv4, isIPv6 } from 'node:net';

/** Addresses of one proxied connection, as the PROXY protocol reports them. */
export interface ProxyAddresses {
  /** Public client address. */
  readonly sourceAddress: string;
  /** Public client port. */
  readonly sourcePort: number;
  /** Address the public client connected to. */
  readonly destinationAddress: string;
  /** Port the public client connected to. */
  readonly destinationPort: number;
}

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function family(a: ProxyAddresses): 4 | 6 | 0 {
  if (isIPv4(a.sourceAddress) && isIPv4(a.destinationAddress)) return 4;
  if (isIPv6(a.sourceAddress) && isIPv6(a.destinationAddress)) return 6;
  return 0;
}

/** PROXY protocol v1 (text) header, e.g. `PROXY TCP4 203.0.113.7 198.51.100.1 51234 5432\r\n`. */
export function proxyV1(a: ProxyAddresses): Buffer {
  const fam = family(a);
  if (fam === 0) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  return Buffer.from(`PROXY TCP${fam} ${a.sourceAddress} ${a.destinationAddress} ${a.sourcePort} ${a.destinationPort}\r\n`, 'latin1');
}

function ipv6Bytes(address: string): Buffer {
  // Expand `::` and embedded IPv4 into 8 groups.
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const p = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail !== undefined ? [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

/** PROXY protocol v2 (binary) header with the PROXY command over TCP. */
export function proxyV2(a: ProxyAddresses): Buffer {
  const fam = family(a);
  if (fam === 0) {
    // LOCAL command, no addresses: the receiver uses the connection's own.
    return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  }
  const addrLen = fam === 4 ? 12 : 36;
  const out = Buffer.alloc(16 + addrLen);
  V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21; // version 2, PROXY
  out[13] = fam === 4 ? 0x11 : 0x21; // TCP over IPv4 / IPv6
  out.writeUInt16BE(addrLen, 14);
  if (fam === 4) {
    Buffer.from(a.sourceAddress.split('.').map(Number)).copy(out, 16);
    Buffer.from(a.destinationAddress.split('.').map(Number)).copy(out, 20);
    out.writeUInt16BE(a.sourcePort, 24);
    out.writeUInt16BE(a.destinationPort, 26);
  } else {
    ipv6Bytes(a.sourceAddress).copy(out, 16);
    ipv6Bytes(a.destinationAddress).copy(out, 32);
    out.writeUInt16BE(a.sourcePort, 48);
    out.writeUInt16BE(a.destinationPort, 50);
  }
  return out;
}
