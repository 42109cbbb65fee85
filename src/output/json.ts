/**
 * json: one JSON array, streamed. `[` and the first record go out together with the first
 * record, so zero records print `[]`; each record is one compact object on its own line.
 *
 *     [
 *       {"To_Account":"a","Attrs":{"k":"v"}},
 *       {"To_Account":"b","Attrs":{}}
 *     ]
 */
import { recordJson } from './ndjson.js';
import { ATTRS_ONLY, type AttrRecord, type RecordFields, type RecordWriter, type WriterOptions } from './types.js';

export class JsonWriter implements RecordWriter {
  readonly #out: NodeJS.WritableStream;
  readonly #fields: RecordFields;
  #count = 0;
  #ended = false;

  constructor(options: WriterOptions) {
    this.#out = options.out;
    this.#fields = options.fields ?? ATTRS_ONLY;
  }

  write(record: AttrRecord): void {
    if (this.#ended) throw new Error('json writer: write() after end()');
    this.#out.write((this.#count === 0 ? '[\n  ' : ',\n  ') + recordJson(record, this.#fields));
    this.#count++;
  }

  writeAll(records: readonly AttrRecord[]): void {
    if (this.#ended) throw new Error('json writer: write() after end()');
    let text = '';
    for (const record of records) {
      text += (this.#count === 0 ? '[\n  ' : ',\n  ') + recordJson(record, this.#fields);
      this.#count++;
    }
    if (text !== '') this.#out.write(text);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#out.write(this.#count === 0 ? '[]\n' : '\n]\n');
  }
}
