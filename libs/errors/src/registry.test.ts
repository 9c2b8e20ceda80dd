import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { documentedCodes, registryDocProblems } from './registry.ts';

const ROOT = new URL('../../../', import.meta.url);
const DOC = readFileSync(new URL('docs/ERRORS.md', ROOT), 'utf8');

const SAMPLE = [
  '# Errors',
  '| Code | Meaning |',
  '| --- | --- |',
  '| `TUN_ERR_ONE` | One: do one. |',
  '## Other errors',
  '| `TUN_ERR_TWO` | Two. |',
  'Prose mentioning `TUN_ERR_ONE` is not a row.',
].join('\n');

describe('documentedCodes', () => {
  it('finds each code row with the heading it sits under', () => {
    expect(documentedCodes(SAMPLE).map(({ code, section }) => [code, section])).toEqual([
      ['TUN_ERR_ONE', 'Errors'],
      ['TUN_ERR_TWO', 'Other errors'],
    ]);
  });
});

describe('registryDocProblems', () => {
  it('is empty when a registry and its section agree both ways', () => {
    expect(registryDocProblems(SAMPLE, { registry: { TUN_ERR_ONE: 'One: do one.' }, section: 'Errors' })).toEqual([]);
    const meaningOnly = (text: string) => text.split(':')[0];
    expect(registryDocProblems(SAMPLE, { registry: { TUN_ERR_ONE: 'One: other words' }, section: 'Errors', rowText: meaningOnly })).toEqual(
      [],
    );
  });

  it('reports a code without a row, in another section, with other text, or badly shaped', () => {
    const registry = { TUN_ERR_ONE: 'Uno.', TUN_ERR_TWO: 'Two.', TUN_ERR_THREE: 'Three.', tun_err_four: 'Four.' };
    expect(registryDocProblems(SAMPLE, { registry, section: 'Errors' })).toEqual([
      `TUN_ERR_ONE's row does not contain "Uno."`,
      'TUN_ERR_TWO is under "Other errors", not "Errors"',
      'TUN_ERR_THREE has no row',
      'tun_err_four is not shaped like /^TUN_ERR_[A-Z][A-Z0-9_]*$/',
      'tun_err_four has no row',
    ]);
  });

  it('reports a row in its section for a code the registry does not have, and a code with two rows', () => {
    expect(registryDocProblems(SAMPLE, { registry: {}, section: 'Other errors' })).toEqual([
      'TUN_ERR_TWO is documented under "Other errors" but is not in its registry',
    ]);
    const twice = `${SAMPLE}\n| \`TUN_ERR_TWO\` | Two. |`;
    expect(registryDocProblems(twice, { registry: { TUN_ERR_TWO: 'Two.' }, section: 'Other errors' })).toEqual(['TUN_ERR_TWO has 2 rows']);
  });
});

describe('docs/ERRORS.md', () => {
  // Each registry's own test checks its section both ways; this one checks that every section with
  // code rows belongs to a registry, so no documented code escapes those checks.
  const rows = documentedCodes(DOC);
  const sections = [...new Set(rows.map((r) => r.section))];

  it('documents each code once', () => {
    const codes = rows.map((r) => r.code);
    expect(codes.filter((c, i) => codes.indexOf(c) !== i)).toEqual([]);
    expect(sections.length).toBeGreaterThanOrEqual(2);
  });

  it.each(sections)('section "%s" names the registry that is its source of truth, and it exists', (section) => {
    const start = DOC.split('\n').findIndex((l) => /^#+\s/.test(l) && l.replace(/^#+\s+/, '').trim() === section);
    const body = DOC.split('\n').slice(start + 1);
    const end = body.findIndex((l) => /^#+\s/.test(l));
    const text = (end === -1 ? body : body.slice(0, end)).join('\n');
    const source = /Source of truth: `([A-Z_]+)` in `([^`]+)`/.exec(text);
    if (source === null) expect.fail(`"${section}" has no "Source of truth: \`REGISTRY\` in \`path\`" line`);
    const [, name, path] = source;
    const file = fileURLToPath(new URL(path, ROOT));
    expect(existsSync(file), `${path} does not exist`).toBe(true);
    expect(readFileSync(file, 'utf8')).toMatch(new RegExp(`^export const ${name}\\b`, 'm'));
  });
});
