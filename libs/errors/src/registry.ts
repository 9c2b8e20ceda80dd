/**
 * A registry of stable error codes: each code and the text docs/ERRORS.md shows for it. Codes are
 * never renamed or reused; each registry has its own section of docs/ERRORS.md, which names it as
 * that section's source of truth, and a test that checks the two against each other both ways
 * ({@link registryDocProblems}).
 */
export type ErrorRegistry<C extends string = string> = Readonly<Record<C, string>>;

/** The shape of every code: `TUN_ERR_` then upper-case words. */
export const ERROR_CODE_PATTERN = /^TUN_ERR_[A-Z][A-Z0-9_]*$/;

/** One code row of docs/ERRORS.md: a table row that starts ``| `TUN_ERR_...` |``. */
export interface DocumentedCode {
  /** The code in the row's first cell. */
  readonly code: string;
  /** The text of the nearest heading above the row (of any level), e.g. `Configuration errors`. */
  readonly section: string;
  /** The whole row, as written. */
  readonly row: string;
}

/** Every code row of an errors document (markdown), in document order. */
export function documentedCodes(markdown: string): DocumentedCode[] {
  const rows: DocumentedCode[] = [];
  let section = '';
  for (const line of markdown.split('\n')) {
    const heading = /^#+\s+(.+)$/.exec(line);
    if (heading) section = heading[1].trim();
    const row = /^\| `(TUN_ERR_[A-Z0-9_]*)` \|/.exec(line);
    if (row) rows.push({ code: row[1], section, row: line });
  }
  return rows;
}

/** Where and how a registry is documented. */
export interface RegistryDoc<C extends string> {
  /** The registry. */
  readonly registry: ErrorRegistry<C>;
  /** The heading its rows sit under in the document. */
  readonly section: string;
  /** The text a code's row must contain, made from the registry's text for it; default: that text. */
  readonly rowText?: (text: string) => string;
}

/**
 * What disagrees between a registry and an errors document, both ways: a code of the wrong shape,
 * without a row, with two rows, documented in another section or with a row that does not carry
 * the registry's text; a row in the registry's section for a code the registry does not have.
 * Empty when they agree.
 */
export function registryDocProblems<C extends string>(markdown: string, doc: RegistryDoc<C>): string[] {
  const rows = documentedCodes(markdown);
  const rowText = doc.rowText ?? ((text: string) => text);
  const problems: string[] = [];
  for (const [code, text] of Object.entries<string>(doc.registry)) {
    const found = rows.filter((r) => r.code === code);
    if (!ERROR_CODE_PATTERN.test(code)) problems.push(`${code} is not shaped like ${ERROR_CODE_PATTERN}`);
    if (found.length === 0) problems.push(`${code} has no row`);
    else if (found.length > 1) problems.push(`${code} has ${found.length} rows`);
    else if (found[0].section !== doc.section) problems.push(`${code} is under "${found[0].section}", not "${doc.section}"`);
    else if (!found[0].row.includes(rowText(text))) problems.push(`${code}'s row does not contain "${rowText(text)}"`);
  }
  for (const { code, section } of rows) {
    if (section === doc.section && !Object.hasOwn(doc.registry, code))
      problems.push(`${code} is documented under "${section}" but is not in its registry`);
  }
  return problems;
}
