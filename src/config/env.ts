// The RabbitMQ environment variables a development setup (the official docker image) uses:
// RABBITMQ_DEFAULT_USER / _PASS / _VHOST, and RABBITMQ_CONFIG_FILE naming the rabbitmq.conf.
import { ConfigError, type Settings } from './types.js';

export function rabbitmqEnv(env: NodeJS.ProcessEnv): Settings {
  const s: Settings = {};
  const set = (name: string, key: 'defaultUser' | 'defaultPass' | 'defaultVhost') => {
    const v = env[name];
    if (v !== undefined && v !== '') s[key] = v;
  };
  set('RABBITMQ_DEFAULT_USER', 'defaultUser');
  set('RABBITMQ_DEFAULT_PASS', 'defaultPass');
  set('RABBITMQ_DEFAULT_VHOST', 'defaultVhost');
  return s;
}

/**
 * RABBITMQ_CONFIG_FILE as RabbitMQ reads it: a path with or without the `.conf` extension
 * (rabbitmq-server appends it when missing). The classic Erlang-term `.config` format is not
 * read by Warren.
 */
export function rabbitmqConfigFile(env: NodeJS.ProcessEnv): string | undefined {
  const v = env.RABBITMQ_CONFIG_FILE;
  if (v === undefined || v === '') return undefined;
  if (v.endsWith('.config')) {
    throw new ConfigError(`RABBITMQ_CONFIG_FILE: ${v} is in the classic Erlang-term format, which Warren does not read; use the rabbitmq.conf (sysctl) format`);
  }
  return v.endsWith('.conf') ? v : `${v}.conf`;
}
