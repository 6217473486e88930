// Rewrites the README's error table from the error catalogue, gateway/errors.ts (`npm run docs:errors`),
// so the two cannot drift: test/unit/errors.test.ts fails when the README's table is not what this writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { errorTable } from '../gateway/errors.ts';

export const README_PATH = new URL('../README.md', import.meta.url);
export const TABLE_START = '<!-- error table: written by `npm run docs:errors` from gateway/errors.ts; edit the catalogue, not the table -->';
export const TABLE_END = '<!-- end of the error table -->';

function markers(readme: string): { readonly start: number; readonly end: number } {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md: the error table's markers are missing or out of order:\n${TABLE_START}\n${TABLE_END}`);
  return { start: start + TABLE_START.length, end };
}

/** The table the README holds now, between its markers. */
export function readmeErrorTable(readme: string): string {
  const { start, end } = markers(readme);
  return readme.slice(start, end).trim();
}

/** The README with the catalogue's table between the markers. */
export function withErrorTable(readme: string): string {
  const { start, end } = markers(readme);
  return `${readme.slice(0, start)}\n${errorTable()}\n${readme.slice(end)}`;
}

if (import.meta.main) {
  const readme = readFileSync(README_PATH, 'utf8');
  const updated = withErrorTable(readme);
  if (updated !== readme) writeFileSync(README_PATH, updated);
  console.log(updated === readme ? 'README.md: the error table is up to date' : 'README.md: the error table is rewritten from gateway/errors.ts');
}
