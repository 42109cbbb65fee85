/** ndjson: one compact JSON object per line, written as soon as the record arrives. */
import type { AttrRecord, RecordWriter, WriterOptions } from './types.js';

/**
 * The JSON text of one record with the key order fixed (To_Account, Attrs) and nothing else in
 * it, whatever else the object carries. JSON.stringify escapes lone surrogates, so any JS string
 * round-trips.
 */
export function recordJson(record: AttrRecord): string {
  // The text JSON.stringify gives { To_Account, Attrs }, without making that object.
  return `{"To_Account":${JSON.stringify(record.To_Account)},"Attrs":${JSON.stringify(record.Attrs)}}`;
}

export class NdjsonWriter implements RecordWriter {
  readonly #out: NodeJS.WritableStream;
  #ended = false;

  constructor(options: WriterOptions) {
    this.#out = options.out;
  }

  write(record: AttrRecord): void {
    if (this.#ended) throw new Error('ndjson writer: write() after end()');
    this.#out.write(recordJson(record) + '\n');
  }

  writeAll(records: readonly AttrRecord[]): void {
    if (this.#ended) throw new Error('ndjson writer: write() after end()');
    let text = '';
    for (const record of records) text += recordJson(record) + '\n';
    if (text !== '') this.#out.write(text);
  }

  end(): void {
    this.#ended = true;
  }
}
