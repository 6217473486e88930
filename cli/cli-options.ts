// The command line of `triton-gateway`: parsed once with node:util's parseArgs, checked, then frozen.
import { parseArgs } from 'node:util';
import type { Result } from '../gateway/result.ts';
import { err, ok } from '../gateway/result.ts';

export const DEFAULT_URL = 'http://localhost:8080';
export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const MAX_CONCURRENCY = 1024;

export type ProgressMode = 'auto' | 'on' | 'off';

export interface InferOptions {
  readonly command: 'infer';
  readonly url: URL;
  readonly model: string;
  readonly version: string | undefined;
  readonly inputPath: string;
  readonly binary: boolean;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly summaryOnly: boolean;
  readonly progress: ProgressMode;
}

export type CliCommand = InferOptions | { readonly command: 'help' };

export const HELP = `triton-gateway: a command-line client for the triton-gateway (Open Inference Protocol / KServe v2)

Usage:
  triton-gateway infer --model NAME --input FILE [options]
  triton-gateway --help

Sends every inference request in FILE to POST <url>/v2/models/NAME[/versions/V]/infer.

Options:
  --url URL            the gateway (default ${DEFAULT_URL}, or $TRITON_GATEWAY_URL)
  --model NAME         model to call (required)
  --version V          model version, a whole number (default: the gateway's choice)
  --input FILE         the requests, "-" for stdin (required); see "Input" below
  --binary             send tensors with the binary tensor data extension, and ask for binary outputs
                       (decoded back to JSON before printing)
  --concurrency N      requests in flight at once (default ${DEFAULT_CONCURRENCY})
  --timeout MS         per-request timeout in milliseconds (default ${DEFAULT_TIMEOUT_MS})
  --summary            print only a JSON summary on stdout, not each answer
  --progress           always show the progress bar on stderr
  --no-progress        never show it (default: shown when there is more than one request)
  -h, --help           this help

Input (JSON, detected from the content):
  - a JSON array of infer request bodies:   [{"inputs": [...]}, {"inputs": [...]}]
  - JSON lines, one request body per line:  {"inputs": [...]}
  - one request body:                        {"inputs": [...], "outputs": [...]}
  - the digits shortcut, one request per image, each sent as input "pixels", FP32, shape [1, n]:
                                             {"pixels": [[0, 0, 5, 13, ...], [...]]}
  Example: cli/examples/digits-pixels.json, cli/examples/digits-requests.jsonl

Output:
  stdout: one JSON line per request, in input order:
            {"index":0,"ok":true,"status":200,"ms":2.1,"answer":{...the gateway's answer...}}
            {"index":1,"ok":false,"status":400,"ms":1.0,"code":"INVALID_INPUT","error":"..."}
          or, with --summary, one JSON object with the counts and latencies.
  stderr: the progress bar (ok / failed counts) and a one-line summary.
  Exit code: 0 when every request succeeded, 1 otherwise (also for a bad file or an unreachable gateway).

Example:
  npx triton-gateway infer --url http://localhost:8080 --model digits --version 2 \\
    --input cli/examples/digits-pixels.json --concurrency 8
`;

/** Parses argv (without node and the script). Fails with a message for the user, never throws. */
export function parseCliOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Result<CliCommand, string> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      allowNegative: true,
      strict: true,
      options: {
        url: { type: 'string' },
        model: { type: 'string' },
        version: { type: 'string' },
        input: { type: 'string', short: 'i' },
        binary: { type: 'boolean' },
        concurrency: { type: 'string', short: 'c' },
        timeout: { type: 'string' },
        summary: { type: 'boolean' },
        progress: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return err(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true) return ok({ command: 'help' });
  const [command, ...extra] = positionals;
  if (command === undefined) return err('missing command: only "infer" exists; see --help');
  if (command !== 'infer') return err(`unknown command "${command}": only "infer" exists; see --help`);
  if (extra.length > 0) return err(`unexpected argument "${extra.join(' ')}"; see --help`);

  const rawUrl = values.url ?? env['TRITON_GATEWAY_URL'] ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return err(`--url: "${rawUrl}" is not a URL (example: ${DEFAULT_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return err(`--url: "${rawUrl}" must start with http:// or https://`);

  if (values.model === undefined || values.model === '') return err('--model is required (example: --model digits)');
  if (values.version !== undefined && !/^[0-9]+$/.test(values.version)) return err(`--version: "${values.version}" is not a whole number`);
  if (values.input === undefined || values.input === '') return err('--input is required: a JSON or JSON-lines file of requests ("-" for stdin)');

  const concurrency = wholeNumber('--concurrency', values.concurrency, DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY);
  if (!concurrency.ok) return concurrency;
  const timeoutMs = wholeNumber('--timeout', values.timeout, DEFAULT_TIMEOUT_MS, 1, 3_600_000);
  if (!timeoutMs.ok) return timeoutMs;

  return ok(Object.freeze({
    command: 'infer',
    url,
    model: values.model,
    version: values.version,
    inputPath: values.input,
    binary: values.binary ?? false,
    concurrency: concurrency.value,
    timeoutMs: timeoutMs.value,
    summaryOnly: values.summary ?? false,
    progress: values.progress === undefined ? 'auto' : values.progress ? 'on' : 'off',
  }));
}

function wholeNumber(flag: string, raw: string | undefined, fallback: number, min: number, max: number): Result<number, string> {
  if (raw === undefined) return ok(fallback);
  const value = Number(raw);
  if (!/^[0-9]+$/.test(raw) || value < min || value > max) return err(`${flag}: "${raw}" must be a whole number from ${min} to ${max}`);
  return ok(value);
}
