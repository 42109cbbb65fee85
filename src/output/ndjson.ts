/** ndjson: one compact JSON object per line, written as soon as the record arrives. */
import { ATTRS_ONLY, type AttrRecord, type RecordFields, type RecordWriter, type WriterOptions } from './types.js';

/**
 * The JSON text of one record with the key order fixed (To_Account, Attrs, Tags) and nothing else
 * in it, whatever else the object carries. JSON.stringify escapes lone surrogates, so any JS
 * string round-trips.
 */
export function recordJson(record: AttrRecord, fields: RecordFields = ATTRS_ONLY): string {
  // The text JSON.stringify gives { To_Account, Attrs }, without making that object.
  if (!fields.tags) return `{"To_Account":${JSON.stringify(record.To_Account)},"Attrs":${JSON.stringify(record.Attrs)}}`;
  if (!fields.attrs) return JSON.stringify({ To_Account: record.To_Account, Tags: record.Tags ?? [] });
  return JSON.stringify({ To_Account: record.To_Account, Attrs: record.Attrs, Tags: record.Tags ?? [] });
}

export class NdjsonWriter implements RecordWriter {
  readonly #out: NodeJS.WritableStream;
  readonly #fields: RecordFields;
  #ended = false;

  constructor(options: WriterOptions) {
    this.#out = options.out;
    this.#fields = options.fields ?? ATTRS_ONLY;
  }

  write(record: AttrRecord): void {
    if (this.#ended) throw new Error('ndjson writer: write() after end()');
    this.#out.write(recordJson(record, this.#fields) + '\n');
  }

  writeAll(records: readonly AttrRecord[]): void {
    if (this.#ended) throw new Error('ndjson writer: write() after end()');
    let text = '';
    for (const record of records) text += recordJson(record, this.#fields) + '\n';
    if (text !== '') this.#out.write(text);
  }

  end(): void {
    this.#ended = true;
  }
}
