/**
 * The data the tool moves, named as the REST API names it. Everything imports these types from
 * here: the API layer that reads them, the readers that parse them, the writers that print them.
 */

/** One account's push attributes: what the "get push attributes" endpoints return for one account. */
export interface AttrRecord {
  To_Account: string;
  Attrs: Record<string, string>;
}

/** One account and what to do to it (set: name → value; remove: name → "", only the names count). In input order. */
export interface Entry {
  account: string;
  attrs: Map<string, string>;
}

/** The header of the first column in tsv, csv and table output, and of csv/tsv input. */
export const ACCOUNT_COLUMN = 'account';
