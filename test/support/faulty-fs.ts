import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real filesystem that fails on demand, for tests of what the store does when its disk does: a small
 * tmpfs mounted on a fresh temp folder. `fill()` takes every free block (SQLite then fails with
 * "database or disk is full"), `free()` gives them back; `readOnly()` / `writable()` remount it, which the
 * kernel allows only while no file on it is open for writing (so it is for "the store fails to open",
 * not for a store that is open). Needs root (mount); `unmount()` detaches it lazily, for afterAll.
 */
export class FaultyFs {
  /** The mount point: put the store file under it. */
  readonly path: string;
  private readonly filler: string;
  private mounted = false;

  private constructor(path: string) {
    this.path = path;
    this.filler = join(path, '.filler');
  }

  /** Mounts a tmpfs of `sizeBytes` (rounded up to whole pages by the kernel) on a fresh temp folder. */
  static mount(sizeBytes: number, prefix = 'wahook-faulty-'): FaultyFs {
    const uid = process.getuid?.();
    if (uid !== 0) {
      throw new Error(`FaultyFs needs root to mount a tmpfs (this process runs as uid ${uid ?? 'unknown'}); run the fault tests as root.`);
    }
    const fs = new FaultyFs(mkdtempSync(join(tmpdir(), prefix)));
    try {
      run('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil(sizeBytes)},mode=0700`, 'tmpfs', fs.path]);
    } catch (error) {
      rmdirSync(fs.path);
      throw error;
    }
    fs.mounted = true;
    return fs;
  }

  /** Whether a filler currently holds the disk full. */
  get full(): boolean {
    return existsSync(this.filler);
  }

  /**
   * Writes a filler file until the kernel answers ENOSPC, down to single bytes, so not one block is left;
   * returns its size. Writes by anyone else on this filesystem then fail until `free()`.
   */
  fill(): number {
    const fd = openSync(this.filler, 'a');
    let written = 0;
    try {
      for (let chunk = 1 << 20; chunk >= 1; chunk >>= 4) {
        const buffer = Buffer.alloc(chunk, 0x5a);
        for (;;) {
          let n: number;
          try {
            n = writeSync(fd, buffer);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw error;
          }
          written += n;
          if (n < chunk) break; // a short write: the disk is full at this chunk size
        }
      }
    } finally {
      closeSync(fd);
    }
    return written;
  }

  /** Deletes the filler: its blocks are free again at once (tmpfs, and nobody holds it open). */
  free(): void {
    if (existsSync(this.filler)) unlinkSync(this.filler);
  }

  /** Remounts read-only; fails (EBUSY) while a file on it is open for writing. */
  readOnly(): void {
    run('mount', ['-o', 'remount,ro', this.path]);
  }

  writable(): void {
    run('mount', ['-o', 'remount,rw', this.path]);
  }

  /** Whether the mount is read-only now, as the kernel reports it. */
  isReadOnly(): boolean {
    const line = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .find((entry) => entry.split(' ')[1] === this.path);
    if (!line) throw new Error(`${this.path} is not mounted`);
    return line.split(' ')[3]!.split(',').includes('ro');
  }

  /** Detaches the tmpfs lazily (files still open elsewhere keep it alive until closed) and removes the folder. */
  unmount(): void {
    if (!this.mounted) return;
    this.mounted = false;
    run('umount', ['-l', this.path]);
    rmdirSync(this.path);
  }
}

function run(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`${command} ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`);
  }
}
