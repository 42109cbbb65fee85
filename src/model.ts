/**
 * The data the tool moves, named as the REST API names it. Everything imports these types from
 * here: the API layer that reads them, the readers that parse them, the writers that print them.
 */

/**
 * One account's push targeting data, named as the REST API names it: its attributes (what the
 * "get push attributes" endpoints return), its tags (the "get tags" endpoints), or both (`get
 * --tags`, `audience`). Writers print what a record has; a tag-only record has `Attrs: {}` and
 * prints no attribute columns when none are asked for.
 */
export interface AttrRecord {
  To_Account: string;
  Attrs: Record<string, string>;
  /** The account's tags, when the run fetched them. */
  Tags?: string[] | undefined;
}

/** The header of the tags column in tsv, csv and table output, after the attribute columns. */
export const TAGS_COLUMN = 'tags';

/**
 * Tags in one tsv/csv/table cell: joined by ",", with "," and "\\" inside a tag escaped as "\\,"
 * and "\\\\" so that `splitTagsCell` gives back exactly the same list (a tag is any 1-50 bytes).
 */
export function joinTagsCell(tags: readonly string[]): string {
  return tags.map((t) => t.replace(/\\/g, '\\\\').replace(/,/g, '\\,')).join(',');
}

/** The inverse of joinTagsCell; an empty cell is no tags. */
export function splitTagsCell(cell: string): string[] {
  if (cell === '') return [];
  const tags: string[] = [];
  let current = '';
  for (let i = 0; i < cell.length; i++) {
    const c = cell[i]!;
    if (c === '\\' && i + 1 < cell.length) current += cell[++i];
    else if (c === ',') {
      tags.push(current);
      current = '';
    } else current += c;
  }
  tags.push(current);
  return tags;
}

/** One account and what to do to it (set: name → value; remove: name → "", only the names count). In input order. */
export interface Entry {
  account: string;
  attrs: Map<string, string>;
}

/** The header of the first column in tsv, csv and table output, and of csv/tsv input. */
export const ACCOUNT_COLUMN = 'account';
