// The data-directory lock: one broker per data directory.
//
// First line of defence, for a clear message: `warren.lock` holding the owner's pid, created
// atomically (link(2) of a fully written temp file, which fails with EEXIST exactly as an
// O_EXCL create would, but never exposes an empty lock file to a concurrent reader).
// Second line (in store.ts): SQLite's locking_mode=EXCLUSIVE, which the kernel releases when
// the owner dies, so even a lost race on a stale lock file cannot let two brokers write.
import fs from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = 'warren.lock';

/** Data directories this process holds, so a pid match can tell "us" from "a dead previous us". */
const heldHere = new Set<string>();

export interface DirLock {
  readonly file: string;
  release(): void;
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | null {
  try {
    const n = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Create `file` with the content of `tmp`, failing with EEXIST if it exists. */
function createExclusive(tmp: string, file: string): void {
  try {
    fs.linkSync(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Filesystems without hard links: a plain O_EXCL create (an empty file is briefly visible,
    // and a reader seeing it treats it as stale; the SQLite lock still decides).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw e;
    const fd = fs.openSync(file, 'wx');
    try {
      fs.writeSync(fd, `${process.pid}\n`);
    } finally {
      fs.closeSync(fd);
    }
  }
}

export function acquireLock(dir: string, log?: (msg: string, meta?: Record<string, unknown>) => void): DirLock {
  const key = fs.realpathSync(dir);
  const file = path.join(dir, LOCK_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${process.pid}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        createExclusive(tmp, file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
      }
      const pid = readPid(file);
      // Our own pid is only a live holder if this process really opened the directory; after a
      // restart in a container the new broker can get the pid the killed one had.
      const held = pid !== null && (pid === process.pid ? heldHere.has(key) : alive(pid));
      if (held) {
        const who = pid === process.pid ? 'this process' : 'another process';
        throw new Error(
          `data directory ${dir} is in use by ${who} (pid ${pid}, lock file ${file}); ` +
            `stop that broker or use another --data-dir (if pid ${pid} is not a Warren, delete ${file})`,
        );
      }
      log?.('taking over stale lock', { file, stalePid: pid });
      try {
        fs.unlinkSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  heldHere.add(key);
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      heldHere.delete(key);
      // Only remove the file if it is still ours (a racing takeover may have replaced it).
      if (readPid(file) === process.pid) fs.rmSync(file, { force: true });
    },
  };
}
