#!/usr/bin/env node
// Entry point of the `triton-gateway` command (package.json "bin"). Node 24 runs this TypeScript
// file directly (type stripping); see cli/README.md.
import { main } from './main.ts';

// `... | head` closes stdout early: stop quietly instead of crashing with EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr });
