import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, parseScalar } from './kinds.ts';
import type { ScalarKind } from './schema.ts';

const cases: { kind: ScalarKind; good: [string, unknown][]; bad: string[] }[] = [
  {
    kind: { kind: 'string' },
    good: [
      ['x', 'x'],
      [' a b ', ' a b '],
    ],
    bad: [''],
  },
  {
    kind: { kind: 'int', min: 1, max: 10 },
    good: [
      ['1', 1],
      ['10', 10],
      [' 7 ', 7],
    ],
    bad: ['0', '11', '1.5', 'abc', '', '1e3', '0x5'],
  },
  {
    kind: { kind: 'int' },
    good: [
      ['-5', -5],
      ['9007199254740991', 9007199254740991],
    ],
    bad: ['9007199254740992'],
  },
  {
    kind: { kind: 'port' },
    good: [
      ['1', 1],
      ['65535', 65535],
      ['8080', 8080],
    ],
    bad: ['0', '65536', '-1', 'abc', '80.0'],
  },
  { kind: { kind: 'port', allowZero: true }, good: [['0', 0]], bad: ['65536'] },
  {
    kind: { kind: 'url', protocols: ['ws:', 'wss:'] },
    good: [
      ['wss://exit.example.com', 'wss://exit.example.com/'],
      ['ws://localhost:8123/x', 'ws://localhost:8123/x'],
    ],
    bad: ['http://x', 'exit.example.com', '', 'wss//x'],
  },
  {
    kind: { kind: 'boolean' },
    good: [
      ['true', true],
      ['1', true],
      ['YES', true],
      ['on', true],
      ['false', false],
      ['0', false],
      ['off', false],
    ],
    bad: ['', 'maybe', '2'],
  },
  {
    kind: { kind: 'enum', choices: ['a', 'b'] },
    good: [
      ['a', 'a'],
      ['b', 'b'],
    ],
    bad: ['A', 'c', ''],
  },
  {
    kind: { kind: 'duration' },
    good: [
      ['500ms', 500],
      ['30s', 30_000],
      ['2m', 120_000],
      ['1h', 3_600_000],
      ['250', 250],
      ['1.5s', 1500],
      ['0', 0],
    ],
    bad: ['', 'abc', '1.5', '-1s', '5d', '10 s', 's'],
  },
  {
    kind: { kind: 'duration', min: 1000, max: 60_000 },
    good: [
      ['1s', 1000],
      ['1m', 60_000],
    ],
    bad: ['999ms', '61s'],
  },
  {
    kind: { kind: 'bytes' },
    good: [
      ['64KiB', 65_536],
      ['1MiB', 1_048_576],
      ['16kb', 16_000],
      ['16KB', 16_000],
      ['1GiB', 1024 ** 3],
      ['100', 100],
      ['10b', 10],
      ['1.5KiB', 1536],
    ],
    bad: ['', 'abc', '1.5', '-1', '5TiB', 'KiB'],
  },
  { kind: { kind: 'bytes', min: 16 * 1024, max: 16 * 1024 ** 2 }, good: [['16KiB', 16_384]], bad: ['16kb', '17MiB'] },
  {
    kind: {
      kind: 'custom',
      placeholder: 'N',
      expected: 'an even number',
      parse: (raw) => {
        if (Number(raw) % 2 !== 0) throw new Error('expected an even number');
        return Number(raw);
      },
    },
    good: [['4', 4]],
    bad: ['3'],
  },
];

describe('parseScalar', () => {
  for (const { kind, good, bad } of cases) {
    const label = JSON.stringify(kind);
    it.each(good)(`${label} accepts %j`, (raw, expected) => {
      expect(parseScalar(kind, raw)).toEqual(expected);
    });
    it.each(bad)(`${label} rejects %j with an "expected ..." message`, (raw) => {
      expect(() => parseScalar(kind, raw)).toThrow(/^expected /);
    });
  }

  it('describes bounds in its error', () => {
    expect(() => parseScalar({ kind: 'bytes', min: 16 * 1024, max: 16 * 1024 ** 2 }, '1')).toThrow(/16KiB-16MiB/);
    expect(() => parseScalar({ kind: 'port' }, 'x')).toThrow('expected an integer port 1-65535');
    expect(() => parseScalar({ kind: 'url', protocols: ['ws:', 'wss:'] }, 'x')).toThrow('expected a ws:// or wss:// URL');
  });
});

describe('formatting', () => {
  it.each([
    [0, '0ms'],
    [500, '500ms'],
    [1500, '1500ms'],
    [30_000, '30s'],
    [120_000, '2m'],
    [3_600_000, '1h'],
  ])('formatDuration(%d) = %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it.each([
    [100, '100'],
    [16_384, '16KiB'],
    [262_144, '256KiB'],
    [16 * 1024 ** 2, '16MiB'],
    [1024 ** 3, '1GiB'],
  ])('formatBytes(%d) = %s', (n, text) => expect(formatBytes(n)).toBe(text));
});
