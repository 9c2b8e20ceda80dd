import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SESSION_TRANSITIONS } from './session-state.ts';
import { REPLY_TRANSITIONS, STREAM_TRANSITIONS, isStreamFault } from './stream-state.ts';

const PROTOCOL_MD = new URL('../../../docs/PROTOCOL.md', import.meta.url);

/** A transition table as the markdown table docs/PROTOCOL.md carries. */
function markdownTable(corner: string, table: Readonly<Record<string, Readonly<Record<string, string>>>>): string {
  const events = Object.keys(Object.values(table)[0]);
  const cell = (next: string) => (isStreamFault(next) ? `fault ${next}` : next);
  return [
    `| ${corner} | ${events.join(' | ')} |`,
    `| --- | ${events.map(() => '---').join(' | ')} |`,
    ...Object.entries(table).map(([state, row]) => `| ${state} | ${events.map((e) => cell(row[e])).join(' | ')} |`),
  ].join('\n');
}

/** The text between `<!-- name:begin -->` and `<!-- name:end -->` in docs/PROTOCOL.md. */
function docSection(name: string): string {
  const doc = readFileSync(PROTOCOL_MD, 'utf8');
  const match = new RegExp(`<!-- ${name}:begin -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`).exec(doc);
  if (!match) throw new Error(`docs/PROTOCOL.md has no ${name} section`);
  return match[1];
}

describe('docs/PROTOCOL.md shows the state tables the code runs', () => {
  it.each([
    ['stream-states', 'state \\ event', STREAM_TRANSITIONS],
    ['reply-states', 'reply state \\ event', REPLY_TRANSITIONS],
    ['session-states', 'state \\ event', SESSION_TRANSITIONS],
  ] as const)('%s (paste the expected table into the doc when the code changed)', (name, corner, table) => {
    expect(docSection(name)).toBe(markdownTable(corner, table));
  });
});
