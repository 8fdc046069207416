#!/usr/bin/env node
// k8ts command-line entry point: dispatches to the compiled CLI (run `npm run build` first).
import('../dist/src/cli/main.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  console.error(err && err.code === 'ERR_MODULE_NOT_FOUND' ? `k8ts: not built yet (${err.message}); run \`npm run build\`` : err);
  process.exit(1);
});
