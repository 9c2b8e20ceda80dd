import pkg from '../package.json' with { type: 'json' };

/** This edge client's version (its package.json version, inlined into the bundle at build time). */
export const EDGE_CLIENT_VERSION: string = pkg.version;

/**
 * The `User-Agent` of the upgrade request. Sent because WAFs in front of the exit server block
 * requests without one (AWS's managed common rule set has `NoUserAgent_HEADER`), and so the exit
 * server's logs show which client version connected.
 */
export const EDGE_CLIENT_USER_AGENT = `tunnel-edge-client/${EDGE_CLIENT_VERSION}`;
