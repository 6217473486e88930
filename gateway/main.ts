// Process entry point (npm start, the image's CMD). It checks the Node.js version before anything else
// is loaded: static imports are hoisted and would run first, and on an older Node the gateway fails
// obscurely or misbehaves (Node 20 leaked memory under load through AbortSignal.any), so the gateway
// itself (serve.ts) comes in through a dynamic import after the check. Nothing here may need Node 24.
// Exit code 1 on an older Node, with a message saying why.

/** package.json "engines": {"node": ">=24"}. */
const MINIMUM_NODE_MAJOR = 24;

const major = Number(process.versions.node.split('.')[0]);
if (!(major >= MINIMUM_NODE_MAJOR)) {
  process.stderr.write(
    `triton-gateway: Node.js ${MINIMUM_NODE_MAJOR} or newer is required (package.json "engines"); this is ${process.version}. ` +
      `Run it with the Node of the image or of node_modules/.bin (npm start), not the system's.\n`,
  );
  process.exit(1);
}
await import('./serve.ts');
