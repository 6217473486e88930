// The CLI's command line: defaults, the environment's URL, and in-process runs of main for what needs
// no gateway (the help, usage errors).
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS, DEFAULT_URL, parseCliOptions } from '../../../cli/cli-options.ts';
import { EXIT_FAILED, EXIT_OK, main } from '../../../cli/main.ts';

describe('parseCliOptions', () => {
  it('fills the defaults', () => {
    expect(parseCliOptions(['infer', '--model', 'digits', '--input', 'f.json'], {})).toEqual({
      ok: true,
      value: {
        command: 'infer',
        url: new URL(DEFAULT_URL),
        model: 'digits',
        version: undefined,
        inputPath: 'f.json',
        binary: false,
        concurrency: DEFAULT_CONCURRENCY,
        timeoutMs: DEFAULT_TIMEOUT_MS,
        summaryOnly: false,
        progress: 'auto',
      },
    });
  });

  it('reads every option, and the URL from TRITON_GATEWAY_URL unless --url says otherwise', () => {
    const argv = ['infer', '--model', 'digits', '--version', '2', '-i', '-', '--binary', '-c', '16', '--timeout', '500', '--summary', '--no-progress'];
    const parsed = parseCliOptions(argv, { TRITON_GATEWAY_URL: 'http://gw:9000/prefix' });
    expect(parsed).toMatchObject({ ok: true, value: { version: '2', inputPath: '-', binary: true, concurrency: 16, timeoutMs: 500, summaryOnly: true, progress: 'off' } });
    expect(parsed.ok && parsed.value.command === 'infer' ? parsed.value.url.href : '').toBe('http://gw:9000/prefix');
    const overridden = parseCliOptions([...argv, '--url', 'https://other'], { TRITON_GATEWAY_URL: 'http://gw:9000' });
    expect(overridden.ok && overridden.value.command === 'infer' ? overridden.value.url.href : '').toBe('https://other/');
    expect(parseCliOptions(['infer', '--model', 'm', '--input', 'f', '--progress'], {})).toMatchObject({ ok: true, value: { progress: 'on' } });
  });

  it.each([
    [[], 'missing command'],
    [['infer', 'extra', '--model', 'm', '--input', 'f'], 'unexpected argument "extra"'],
    [['infer', '--model', 'm'], '--input is required'],
    [['infer', '--model', 'm', '--input', 'f', '--timeout', '1.5'], '--timeout: "1.5" must be a whole number'],
    [['infer', '--model', 'm', '--input', 'f', '--concurrency', '5000'], '--concurrency: "5000" must be a whole number from 1 to 1024'],
    [['infer', '--model', 'm', '--input', 'f', '--url', 'not a url'], '--url: "not a url" is not a URL'],
  ])('refuses %j', (argv, message) => {
    const parsed = parseCliOptions(argv, {});
    expect(parsed.ok ? '' : parsed.error).toContain(message);
  });
});

describe('main', () => {
  const capture = () => {
    let text = '';
    const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => ((text += chunk.toString()), done()) });
    return { stream, text: () => text };
  };

  it('prints the help on stdout and returns 0', async () => {
    const stdout = capture();
    const stderr = capture();
    expect(await main(['-h'], {}, { stdout: stdout.stream, stderr: stderr.stream })).toBe(EXIT_OK);
    expect(stdout.text()).toContain('Usage:');
    expect(stderr.text()).toBe('');
  });

  it('prints a usage error on stderr and returns 1', async () => {
    const stdout = capture();
    const stderr = capture();
    expect(await main(['infer'], {}, { stdout: stdout.stream, stderr: stderr.stream })).toBe(EXIT_FAILED);
    expect(stderr.text()).toBe('triton-gateway: --model is required (example: --model digits)\n');
    expect(stdout.text()).toBe('');
  });
});
