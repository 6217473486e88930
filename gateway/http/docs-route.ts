// GET /docs: a human-readable API page, rendered in the browser by Swagger UI from /openapi.json.
// Everything the page loads comes from this gateway (Swagger UI's files straight out of the installed
// swagger-ui-dist package, plus our own small HTML and start-up script), so it works with no Internet
// access and leaks nothing to third parties. Links are relative, so the page also works behind a
// reverse proxy that mounts the gateway under a path prefix.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { NextFunction, Request, Response, Router } from 'express';
import { noRoute } from '../errors.ts';
import { locals } from './request-context.ts';

/** Resolved from the package (not from this file's location), so it works from gateway/ and dist/ alike. */
const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Assets are versioned by the installed package; a day of caching is safe and saves reloads. */
const ASSET_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** The only files of the package the page needs; nothing else in it is served. */
const PACKAGE_ASSETS: ReadonlyMap<string, string> = new Map(
  ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-16x16.png', 'favicon-32x32.png'].map((name) => [name, join(SWAGGER_UI_DIR, name)]),
);

/**
 * Relative to /docs, so "docs/assets/..." is /docs/assets/... and "openapi.json" is /openapi.json.
 * validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io.
 */
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: new URL('openapi.json', window.location.href).href,
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    deepLinking: true,
    validatorUrl: null,
  });
});
`;

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>triton-gateway API</title>
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="docs/assets/favicon-16x16.png" sizes="16x16">
  <style>body { margin: 0; background: #fafafa; }</style>
</head>
<body>
  <noscript>This page needs JavaScript; the raw OpenAPI document is at <a href="openapi.json">/openapi.json</a>.</noscript>
  <div id="swagger-ui"></div>
  <script src="docs/assets/swagger-ui-bundle.js" charset="utf-8"></script>
  <script src="docs/assets/init.js" charset="utf-8"></script>
</body>
</html>
`;

export function registerDocsRoute(router: Router): void {
  router.get('/docs', (_req: Request, res: Response) => {
    locals(res).route = 'docs';
    res.set('Cache-Control', 'no-cache');
    res.type('html').send(PAGE);
  });
  // The page's links are relative to /docs; from /docs/ they would point one level too deep.
  router.get('/docs/', (_req: Request, res: Response) => {
    locals(res).route = 'docs';
    res.redirect(301, '../docs');
  });
  router.get('/docs/assets/init.js', (_req: Request, res: Response) => {
    locals(res).route = 'docs_asset';
    res.set('Cache-Control', 'no-cache');
    res.type('js').send(INIT_SCRIPT);
  });
  router.get('/docs/assets/:file', (req: Request, res: Response, next: NextFunction) => {
    locals(res).route = 'docs_asset';
    const file = PACKAGE_ASSETS.get(String(req.params['file']));
    if (file === undefined) {
      // Through the error handler, which settles a body the client may still be sending.
      next(noRoute(req.method, req.path, '/docs'));
      return;
    }
    res.sendFile(file, { maxAge: ASSET_MAX_AGE_MS }, (error?: Error) => {
      if (error !== undefined && !res.headersSent) next(error);
    });
  });
}
