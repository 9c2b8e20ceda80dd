import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The rows of README.md's "What we promise" table: input, outcome, test file and test title. */
function promises(): Array<{ input: string; outcome: string; file: string; title: string }> {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const start = readme.indexOf('### What we promise');
  expect(start, 'README.md has a "What we promise" section').toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf('\n#', start + 5));
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| fault or hostile input'));
  return rows.map((row) => {
    const cells = row.slice(2, -2).split(' | ');
    const m = /^`([^`]+)`: (.+)$/.exec(cells[2] ?? '');
    expect(m, `row names a test as \`path\`: title: ${row}`).not.toBeNull();
    return { input: cells[0], outcome: cells[1], file: m?.[1] ?? '', title: m?.[2] ?? '' };
  });
}

describe('README "What we promise"', () => {
  const rows = promises();

  it('lists the faults and hostile inputs', () => {
    expect(rows.length).toBeGreaterThanOrEqual(20);
  });

  it.each(rows.map((r) => [r.input, r]))('%s: names a test that exists', (_input, row) => {
    expect(row.outcome.trim().length).toBeGreaterThan(5);
    const path = `${root}${row.file}`;
    expect(existsSync(path), `${row.file} exists`).toBe(true);
    const source = readFileSync(path, 'utf8');
    // The title as written in an it(...) call (an apostrophe may be escaped in a quoted title).
    const found = source.includes(row.title) || source.includes(row.title.replace(/'/g, "\\'"));
    expect(found, `${row.file} has a test titled "${row.title}"`).toBe(true);
  });
});
