#!/usr/bin/env node
/**
 * Entry point of the `ndf` command (bin/ndf.js runs it). See `ndf --help`.
 */
import { runCli } from './program.js';

const code = await runCli(process.argv);
process.exitCode = code;
// Agents may leave handles open (sockets, timers): do not let them keep a finished CLI alive.
setTimeout(() => process.exit(code), 1_000).unref();
