#!/usr/bin/env node
import { runCli } from './cli.js';
import { processIo, stopQuietlyWhenOutputCloses } from './io.js';

stopQuietlyWhenOutputCloses();
process.exitCode = await runCli(process.argv.slice(2), processIo());
