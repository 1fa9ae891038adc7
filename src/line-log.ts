// The default logger: one line per event on stderr, in exactly the format of log.ts's winston
// logger (`2026-01-01T00:00:00.000Z info  message {"meta":1}`), without loading winston.
//
// Why not winston itself: importing winston and its dependency tree costs ~40 ms of a ~150 ms
// process start (node --cpu-prof), more than anything else before the listener is up, and the
// broker only ever calls log/error/warn/info/debug. Anyone who wants winston's transports
// passes a winston logger (BrokerOptions.logger, or `logger` in startBroker).
import type { Logger, LogLevel } from './log.js';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** What a logger needs to be handed Warren's logs: console, winston, pino and the like fit. */
export interface LoggerLike {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
}

type Sink = (level: LogLevel, message: string, meta: Record<string, unknown> | undefined) => void;

/**
 * A Logger (the winston type the broker is written against) over a plain function. The cast is
 * confined here: the object implements the methods the broker calls (grep `log\.` in src/),
 * plus `child` and `level` for code that expects them.
 */
function sinkLogger(level: LogLevel | 'silent', sink: Sink): Logger {
  const max = level === 'silent' ? -1 : RANK[level];
  const emit = (l: string, message: unknown, meta?: Record<string, unknown>) => {
    const lv = (l in RANK ? l : 'info') as LogLevel;
    if (RANK[lv] <= max) sink(lv, String(message), meta);
  };
  const logger = {
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    log: (l: string, message: unknown, meta?: Record<string, unknown>) => { emit(l, message, meta); return logger; },
    error: (m: unknown, meta?: Record<string, unknown>) => { emit('error', m, meta); return logger; },
    warn: (m: unknown, meta?: Record<string, unknown>) => { emit('warn', m, meta); return logger; },
    info: (m: unknown, meta?: Record<string, unknown>) => { emit('info', m, meta); return logger; },
    debug: (m: unknown, meta?: Record<string, unknown>) => { emit('debug', m, meta); return logger; },
    child: () => logger,
    isLevelEnabled: (l: string) => (l in RANK ? RANK[l as LogLevel] <= max : false),
  };
  return logger as unknown as Logger;
}

/** log.ts's line format on stderr (synchronous for files and pipes, so nothing is lost at exit). */
export function createLineLogger(level: LogLevel | 'silent' = 'info'): Logger {
  return sinkLogger(level, (l, message, meta) => {
    const rest = meta !== undefined && Object.keys(meta).length ? ' ' + JSON.stringify(meta) : '';
    process.stderr.write(`${new Date().toISOString()} ${l.padEnd(5)} ${message}${rest}\n`);
  });
}

/** Hands every line at or above `level` to `target` (a winston logger filters again itself). */
export function forwardingLogger(target: LoggerLike, level: LogLevel = 'debug'): Logger {
  return sinkLogger(level, (l, message, meta) => {
    if (meta === undefined) target[l](message);
    else target[l](message, meta);
  });
}
