/**
 * table: aligned columns for people, in the manner of gh's tableprinter (cli/cli pkg/tableprinter,
 * go-gh pkg/tableprinter): columns separated by two spaces, a header and a rule under it, one line
 * per row and no border between rows; on a terminal every line fits its width (cells cut with
 * `…`), anywhere else (`--output table` into a pipe or file) nothing is cut.
 *
 * It streams and is linear in rows: the widths are fixed once, from the header and the first page
 * of records (FIRST_PAGE, one API batch; or fewer when the caller flushes earlier / the run ends),
 * and every later row is printed as it comes, cut (or, with `wide`, let overflow) to those widths.
 * So rows appear as batches complete, Ctrl-C leaves every printed row on screen, and an
 * interrupted or failed run still prints every row it fetched (end() flushes the first page).
 * cli-table3, the previous renderer, needed every row before printing and grew quadratically
 * (100,000 rows: minutes), so it was dropped.
 *
 * Plain text only, no colour codes, so the output is the same on a TTY and in a test.
 */
import { ColumnPicker } from './columns.js';
import { ACCOUNT_COLUMN, ATTRS_ONLY, type AttrRecord, type RecordFields, type RecordWriter, type WriterOptions } from './types.js';

/** Records buffered to fix the column widths: one API page (im_get_attr takes 100 accounts a call). */
export const FIRST_PAGE = 100;

/** Between two columns. */
const GAP = '  ';

/** The truncation mark (one column wide), as gh prints it. */
export const ELLIPSIS = '…';

/** Control characters other than `\n`: C0, DEL and C1. `\n` is escaped too: one line per row. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;
const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\r': '\\r', '\n': '\\n' };

/**
 * A cell as a person should see it: control characters shown as `\t`, `\r`, `\n`, `\x1b`, ... so
 * that an attribute value cannot move the cursor, recolour the terminal or break the layout.
 * Lossy on purpose (a literal `\t` looks the same); scripts use tsv, csv or json.
 */
export function displayCell(value: string): string {
  return value.replace(CONTROL, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Whether a code point takes two terminal columns (East Asian Wide/Fullwidth, most emoji). */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Whether a code point takes no column (combining marks, zero-width joiners, variation selectors). */
function isZeroWidth(cp: number): boolean {
  return (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0x20d0 && cp <= 0x20ff);
}

function charWidth(cp: number): number {
  return isZeroWidth(cp) ? 0 : isWide(cp) ? 2 : 1;
}

/** Terminal columns a (control-free) string takes. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch.codePointAt(0)!);
  return width;
}

/** `text` cut to at most `width` columns, ending in `…` when cut (gh's text.Truncate). */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
  for (const ch of text) {
    const w = charWidth(ch.codePointAt(0)!);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return out + ELLIPSIS;
}

/**
 * The widest first column kept whole on a narrow terminal: 32 bytes, Tencent's recommended
 * maximum length of an account ID (the wider ones it warns about are rare).
 */
const MAX_PINNED_WIDTH = 32;

/**
 * Column widths that fit `total` terminal columns (gaps included): columns narrower than their
 * fair share keep their natural width, the rest share what is left equally (never under one
 * column, so a terminal too narrow for one character per column still gets every column).
 * `total` undefined: the natural widths.
 */
export function fitWidths(natural: readonly number[], total: number | undefined): number[] {
  if (total === undefined) return [...natural];
  let available = total - GAP.length * Math.max(0, natural.length - 1);
  if (natural.reduce((a, b) => a + b, 0) <= available) return [...natural];
  const widths = new Array<number>(natural.length).fill(0);
  // The first column (the account) stays whole while every other column keeps one character:
  // a row whose ID is cut names no one. The others share what is left. A first column wider than
  // an account ID can be (a push TaskId) shares like the others.
  const pinned = natural[0]! <= MAX_PINNED_WIDTH;
  if (pinned) {
    widths[0] = Math.max(1, Math.min(natural[0]!, available - (natural.length - 1)));
    available -= widths[0];
  }
  const order = natural
    .map((w, i) => [w, i] as const)
    .slice(pinned ? 1 : 0)
    .sort((a, b) => a[0] - b[0]);
  let left = order.length;
  for (const [w, i] of order) {
    const share = Math.max(1, Math.floor(available / left));
    widths[i] = Math.min(w, share);
    available -= widths[i]!;
    left--;
  }
  return widths;
}

/** One line: cells padded to their widths (the last one not padded), cut when `cut`. */
function formatLine(cells: readonly string[], widths: readonly number[], cut: boolean): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) {
    const cell = cut ? truncate(cells[i]!, widths[i]!) : cells[i]!;
    if (i > 0) line += GAP;
    line += i === cells.length - 1 ? cell : cell + ' '.repeat(Math.max(0, widths[i]! - displayWidth(cell)));
  }
  return line.trimEnd() + '\n';
}

/** How a table is laid out. */
export interface TableLayout {
  /** Terminal width to fit; undefined: no limit (not a terminal). */
  width?: number | undefined;
  /** Never cut a cell (`--wide`). */
  wide?: boolean | undefined;
}

/** A whole small table (header, rule, rows) as text; for lists known up front (`names`). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], layout: TableLayout = {}): string {
  const head = header.map(displayCell);
  const body = rows.map((row) => row.map(displayCell));
  const widths = layoutWidths(head, body, layout);
  const cut = cuts(layout);
  return [formatLine(head, widths, cut), rule(widths), ...body.map((r) => formatLine(r, widths, cut))].join('');
}

function layoutWidths(head: readonly string[], body: readonly (readonly string[])[], layout: TableLayout): number[] {
  const natural = head.map((h) => displayWidth(h));
  for (const row of body) for (let i = 0; i < row.length; i++) natural[i] = Math.max(natural[i]!, displayWidth(row[i]!));
  return layout.wide ? natural : fitWidths(natural, layout.width);
}

/**
 * Whether cells are cut: on a terminal unless --wide. Off a terminal nothing is cut (gh prints
 * full values when not on a TTY), so a later row longer than the first page's widths overflows
 * its column on that line only.
 */
function cuts(layout: TableLayout): boolean {
  return layout.width !== undefined && !layout.wide;
}

function rule(widths: readonly number[]): string {
  return widths.map((w) => '─'.repeat(w)).join(GAP) + '\n';
}

export class TableWriter implements RecordWriter {
  readonly #out: NodeJS.WritableStream;
  readonly #columns: readonly string[] | undefined;
  readonly #onUnknown: ((name: string) => void) | undefined;
  readonly #fields: RecordFields;
  readonly #layout: TableLayout;
  /** The first page, until the widths are fixed. */
  #pending: AttrRecord[] | undefined = [];
  #picker: ColumnPicker | undefined;
  #widths: number[] = [];
  #ended = false;

  constructor(options: WriterOptions) {
    this.#out = options.out;
    this.#fields = options.fields ?? ATTRS_ONLY;
    this.#columns = options.columns;
    this.#onUnknown = options.onUnknownColumn;
    this.#layout = { width: options.width, wide: options.wide };
  }

  write(record: AttrRecord): void {
    if (this.#ended) throw new Error('table writer: write() after end()');
    if (this.#pending) {
      this.#pending.push(record);
      if (this.#pending.length >= FIRST_PAGE) this.flush();
      return;
    }
    this.#out.write(this.#row(record));
  }

  /**
   * Fixes the widths from what has come so far and prints it (called after each batch, so the
   * first rows show as soon as the first batch is in); later calls do nothing.
   */
  flush(): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = undefined;
    // Without explicit columns: the attribute names of the first page, in first-seen order.
    this.#picker = new ColumnPicker(this.#columns ?? (this.#fields.attrs ? unionOfNames(pending) : []), this.#onUnknown, this.#fields);
    const head = [ACCOUNT_COLUMN, ...this.#picker.header].map(displayCell);
    const body = pending.map((record) => this.#cells(record));
    this.#widths = layoutWidths(head, body, this.#layout);
    const cut = cuts(this.#layout);
    let text = formatLine(head, this.#widths, cut) + rule(this.#widths);
    for (const cells of body) text += formatLine(cells, this.#widths, cut);
    this.#out.write(text);
  }

  writeAll(records: readonly AttrRecord[]): void {
    for (const record of records) this.write(record);
  }

  end(): void {
    if (this.#ended) return;
    this.flush();
    this.#ended = true;
  }

  #cells(record: AttrRecord): string[] {
    return [record.To_Account, ...this.#picker!.cells(record).map((v) => v ?? '')].map(displayCell);
  }

  #row(record: AttrRecord): string {
    return formatLine(this.#cells(record), this.#widths, cuts(this.#layout));
  }
}

/** Every attribute name the records have, in first-seen order. */
function unionOfNames(records: readonly AttrRecord[]): string[] {
  const names = new Set<string>();
  for (const record of records) for (const name of Object.keys(record.Attrs)) names.add(name);
  return [...names];
}
