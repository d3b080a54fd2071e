#!/usr/bin/env node
// `mediaslim` command: npx mediaslim <files|dirs|globs...> --out dir [options]. See --help.
import { main } from './cli/run.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mediaslim: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
