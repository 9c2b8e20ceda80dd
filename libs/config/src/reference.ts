import { edgeClientSchema } from './apps/edge-client.ts';
import { exitServerSchema } from './apps/exit-server.ts';
import { exitServerStatusSchema } from './apps/exit-server-status.ts';
import { infraSchema } from './apps/infra.ts';
import { sampleAppSchema } from './apps/sample-app.ts';
import { renderReference } from './help.ts';
import type { Schema } from './schema.ts';

/** Every app schema, in the order docs/CLI.md lists them. */
export const ALL_SCHEMAS: readonly Schema[] = [exitServerSchema, exitServerStatusSchema, edgeClientSchema, sampleAppSchema, infraSchema];

/** Contents of docs/CLI.md; a test keeps the committed file equal to this. */
export function renderCliReference(): string {
  return renderReference(ALL_SCHEMAS);
}
