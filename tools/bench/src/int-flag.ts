/** The positive integer after `flag` in `argv`, `dflt` when the flag is absent; throws on anything else. */
export function positiveIntFlag(argv: readonly string[], flag: string, dflt: number): number {
  const i = argv.indexOf(flag);
  const n = i < 0 ? dflt : Number(argv[i + 1]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} wants a positive integer`);
  return n;
}
