// The configuration lives in config/ (flags, environment, rabbitmq.conf, merged in index.ts).
export * from './config/index.js';
