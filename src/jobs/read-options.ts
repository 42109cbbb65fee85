/**
 * What every read command (get, tags get, audience) shares around the runner: where accounts come
 * from (-f/--file with plain ID lists or record files, --id-column) and how results are printed
 * (-o/--output, --json, --wide, and the output format's resolution). One definition, so that a
 * new read command takes the same input and prints the same formats as `get`.
 */
import { Option, type Command } from 'commander';
import { describeSource } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../output/index.js';
import type { Runtime } from '../runtime/runtime.js';
import { collect } from '../util/text.js';
import { addIdColumnOption } from '../input/id-files.js';

/** A read command's own input and output options as commander parses them. */
export interface ReadOptions {
  file?: string[];
  idColumn?: string;
  output?: string;
  json?: boolean;
  wide?: boolean;
}

/** -f/--file and --id-column: accounts from files of IDs or of records (get's own output, a CRM export). */
export function addAccountFileOptions(command: Command): Command {
  command.option('-f, --file <path>', 'read account IDs from a file: one per line, or records (see above); "-" is stdin (repeatable)', collect);
  return addIdColumnOption(command);
}

/** -o/--output, --json and --wide. */
export function addOutputOptions(command: Command): Command {
  return command
    .addOption(new Option('-o, --output <format>', 'table, tsv, csv, json or ndjson (default: table on a terminal, tsv otherwise)').choices(OUTPUT_FORMATS))
    .option('--json', 'short for --output json')
    .option('--wide', 'table: do not cut cells to fit the terminal');
}

/** The table's layout: the terminal's width (cells cut with …) unless --wide or not a terminal. */
export function tableLayout(rt: Runtime, options: Pick<ReadOptions, 'wide'>): { width: number | undefined; wide: boolean | undefined } {
  return { width: rt.deps.io.stdoutIsTTY ? rt.deps.io.columns : undefined, wide: options.wide };
}

/** Which output format wins: --json/--output, then the config's `output`, then TTY detection. */
export async function resolveOutputFormat(rt: Runtime, options: { output?: string; json?: boolean }): Promise<OutputFormat> {
  if (options.json && options.output && options.output !== 'json') {
    throw new UsageError(`--json and --output ${options.output} contradict each other`, { hint: 'give one of them' });
  }
  if (options.json) return 'json';
  if (options.output) return options.output as OutputFormat;
  const settings = await rt.settings();
  const configured = settings.values.output;
  if (configured) {
    const overridden = settings.overrides.get('output');
    if (overridden) rt.warn(overridden);
    if (!(OUTPUT_FORMATS as readonly string[]).includes(configured.value)) {
      throw new UsageError(`output "${configured.value}" (from ${describeSource(configured.source)}) is not a format`, {
        hint: `use one of ${OUTPUT_FORMATS.join(', ')}`,
      });
    }
    return configured.value as OutputFormat;
  }
  return rt.deps.io.stdoutIsTTY ? 'table' : 'tsv';
}
