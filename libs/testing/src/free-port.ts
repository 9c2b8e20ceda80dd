import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * A free loopback TCP port chosen by the OS: bound on 127.0.0.1, then released for the caller to
 * bind soon after (another process may take it in between; fine for tests on one machine).
 */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}

/** `n` distinct free loopback ports: all held at once while chosen, so none repeats. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, listenAnywhere));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function listenAnywhere(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}
