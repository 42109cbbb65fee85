/**
 * The three standard streams and what we know about them. Commands write data to `stdout` and
 * everything else (spinner, progress, warnings, summaries, errors) to `stderr`.
 * `createTestIO` is the in-memory double the tests use to run the real CLI in-process.
 */
import { PassThrough, Readable, Writable } from 'node:stream';

export interface IO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Whether stderr may carry colour (chalk's detection, NO_COLOR, --color). */
  color: boolean;
  /** Terminal width when stdout is a terminal. */
  columns?: number | undefined;
}

/** The real process streams. */
export function systemIO(): IO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    color: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
    columns: knownColumns(process.stdout.columns),
  };
}

/**
 * A terminal's width, or undefined when it does not say: a pseudo-terminal without a size (`script`,
 * some containers and CI runners) reports 0 columns, which would squeeze every table cell to "…"
 * and wrap help at nothing. Undefined lets the table print whole cells and help wrap at 80.
 */
export function knownColumns(columns: number | undefined): number | undefined {
  return columns !== undefined && columns > 0 ? columns : undefined;
}

export interface TestIOOptions {
  /** Text or bytes on stdin; a Readable is used as is. Default: empty, not a TTY. */
  stdin?: string | Buffer | Readable | undefined;
  stdinIsTTY?: boolean | undefined;
  /** A stream to use as stdout instead of the in-memory one (then `out()` is empty). */
  stdout?: Writable | undefined;
  stdoutIsTTY?: boolean | undefined;
  stderrIsTTY?: boolean | undefined;
  color?: boolean | undefined;
  /** The terminal width stdout reports (with stdoutIsTTY). Default: none. */
  columns?: number | undefined;
}

export interface TestIO extends IO {
  /** Everything written to stdout so far. */
  out(): string;
  /** Everything written to stderr so far. */
  err(): string;
}

function collector(sink: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      sink.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      cb();
    },
  });
}

/** An in-memory IO for tests: stdout/stderr are captured, stdin is what you give it. */
export function createTestIO(options: TestIOOptions = {}): TestIO {
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  let stdin: NodeJS.ReadableStream;
  if (options.stdin instanceof Readable) {
    stdin = options.stdin;
  } else {
    const pass = new PassThrough();
    pass.end(options.stdin ?? '');
    stdin = pass;
  }
  return {
    stdin,
    stdout: options.stdout ?? collector(outChunks),
    stderr: collector(errChunks),
    stdinIsTTY: options.stdinIsTTY ?? false,
    stdoutIsTTY: options.stdoutIsTTY ?? false,
    stderrIsTTY: options.stderrIsTTY ?? false,
    color: options.color ?? false,
    columns: options.columns,
    out: () => Buffer.concat(outChunks).toString('utf8'),
    err: () => Buffer.concat(errChunks).toString('utf8'),
  };
}
