#!/usr/bin/env node
// The collector runs from its TypeScript sources through tsx's loader, so a
// fresh clone needs no build step before `npx incident-lens demo`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
