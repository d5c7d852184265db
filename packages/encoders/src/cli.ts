#!/usr/bin/env node
/// <reference types="node" />
// The `cvm-encoders` bin: `inspect` and `convert` (see `runCli`).
import { runCli } from './cli-commands.js';

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`cvm-encoders: ${e.message}`);
    process.exit(1);
  },
);
