// The README's first requests: each ```sh block holding `curl -s localhost:8080<path> ... -d '<body>'`
// followed by a ```json block with the answer. Run as written against the embedded backend
// (test/contract/readme-examples.test.ts) and through compose.yaml (test/container/compose.test.ts).
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './gateway-process.ts';

export interface ReadmeExample {
  readonly path: string;
  readonly body: string;
  readonly answer: string;
}

export function readmeExamples(): ReadmeExample[] {
  const readme = readFileSync(`${REPO_ROOT}README.md`, 'utf8');
  const pattern = /```sh\ncurl -s localhost:8080(\S+)[^\n]*-d '([\s\S]*?)'\n```\n(?:answers\n)?```json\n([\s\S]*?)\n```/g;
  return [...readme.matchAll(pattern)].map((match) => ({ path: match[1] ?? '', body: match[2] ?? '', answer: match[3] ?? '' }));
}
