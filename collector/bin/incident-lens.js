#!/usr/bin/env node
// Runs the compiled collector (collector/dist, built by `npm ci` through the
// root `prepare` script, or by `npm run build`): plain JavaScript starts in a
// fraction of the time a TypeScript loader needs.
const entry = new URL('../dist/js/cli.js', import.meta.url);
let cli;
try {
  cli = await import(entry.href);
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && error.message.includes(entry.pathname)) {
    process.stderr.write('incident-lens: the compiled collector is missing (collector/dist): run `npm run build`\n');
    process.exit(1);
  }
  throw error;
}
process.exitCode = await cli.main(process.argv.slice(2));
