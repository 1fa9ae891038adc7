// export_definitions and import_definitions over /api/definitions, RabbitMQ's JSON format,
// written and sent as the API has it (no re-encoding). `-` is standard output / input.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CtlError, EXIT } from './args.js';
import type { CommandSpec } from './command.js';
import { writeInfo } from './format.js';

const PATH = '/api/definitions';

const exportDefinitions: CommandSpec = {
  name: 'export_definitions',
  usage: 'export_definitions <file_path | "-"> [--format <json>]',
  description: 'writes the broker\'s definitions (users, vhosts, permissions, queues, exchanges, bindings, policies) as JSON',
  min: 1,
  max: 1,
  options: ['format'],
  async run({ client, io, out, args, values, usage }) {
    if (values.format !== undefined && values.format !== 'json') throw usage(`Bad argument: format ${String(values.format)} is not supported (json only)`);
    const file = args[0]!;
    if (file !== '-') writeInfo(io, out, [`Exporting definitions in JSON to a file at "${file}" ...`]);
    const r = await client.request('GET', PATH);
    if (r.status === 404) throw client.notOffered('GET', PATH, 404);
    if (r.status !== 200) throw client.failed(r);
    if (file === '-') io.out(r.text);
    else writeFileSync(file, r.text);
  },
};

const importDefinitions: CommandSpec = {
  name: 'import_definitions',
  usage: 'import_definitions [<file_path | "-">] [--format <json>] [--skip-if-unchanged]',
  description: 'imports definitions from a JSON file (standard input without one)',
  min: 0,
  max: 1,
  options: ['format', 'skip-if-unchanged'],
  async run({ client, io, out, args, values, usage }) {
    if (values.format !== undefined && values.format !== 'json') throw usage(`Bad argument: format ${String(values.format)} is not supported (json only)`);
    const file = args[0] ?? '-';
    if (file !== '-' && !existsSync(file)) throw usage(`Bad argument: File ${file} does not exist`, EXIT.dataerr);
    writeInfo(io, out, [file === '-' ? 'Importing definitions in JSON from standard input ...' : `Importing definitions in JSON from a file at "${file}" ...`]);
    const text = file === '-' ? await io.stdin() : readFileSync(file, 'utf8');
    try {
      JSON.parse(text);
    } catch (err) {
      throw new CtlError(EXIT.dataerr, `Error:\nFailed to deserialise input (format: JSON) (error: ${(err as Error).message})`);
    }
    const r = await client.request('POST', PATH, text);
    if (r.status === 404) throw client.notOffered('POST', PATH, 404);
    if (r.status < 200 || r.status > 299) throw client.failed(r);
    writeInfo(io, out, ['Successfully started definition import. This process is asynchronous and can take some time.']);
  },
};

export const definitionCommands: CommandSpec[] = [exportDefinitions, importDefinitions];
