// What a warren ctl command is: its name, usage, how many positionals and which options it
// takes, and what it does with the management API. The families are list.ts, queues.ts, policies.ts,
// access.ts, definitions.ts and status.ts; index.ts dispatches.
import type { OptionName, Parsed } from './args.js';
import type { Client } from './client.js';
import type { Io, OutputOptions } from './format.js';

export interface Ctx {
  client: Client;
  io: Io;
  out: OutputOptions;
  /** -p / --vhost, default '/'. */
  vhost: string;
  args: string[];
  values: Parsed['values'];
  /** --timeout in seconds (60 unless given), as rabbitmqctl prints it. */
  timeoutS: number;
  /** Reports an argument error (exit 64 unless `code` says otherwise) with the command's usage. */
  usage(message: string, code?: number): Error;
}

export interface CommandSpec {
  name: string;
  /** Usage after the command name, as rabbitmqctl's help writes it. */
  usage: string;
  description: string;
  min: number;
  max: number;
  /** Options this command takes besides the general ones. */
  options?: OptionName[];
  /** Resolves with the exit code (0 when nothing is returned). */
  run(ctx: Ctx): Promise<number | void>;
}
