// Files of a state directory: created 0700, files written 0600 and atomically
// (temporary file, fsync, rename), so a crash leaves the old file or the new
// one, never half of one. Anything unreadable is an error naming the file;
// nothing here ever overwrites a file it could not read.
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigurationError } from '@lime/wire';

/** What to do about a state file that cannot be used: part of every such error. */
const REMEDY =
  'It was left untouched. Repair it, or move the directory away to start afresh (tokens and keys it kept stop working).';

/** A {@link ConfigurationError} about one state file, with `detail.path`. */
export function stateFileError(path: string, problem: string, cause?: unknown): ConfigurationError {
  return new ConfigurationError(`state file ${path} ${problem}. ${REMEDY}`, {
    cause,
    detail: { path },
  });
}

/** Create the directory (0700) unless it exists. */
export async function ensureStateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const s = await stat(dir);
    if (!s.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigurationError(
      `state directory ${dir} cannot be used (${code}): check that it is a writable directory, or choose another one`,
      { cause: err, detail: { path: dir } },
    );
  }
}

/**
 * The parsed JSON of a state file, `undefined` when it does not exist.
 * `onLoose` hears of a file others may read (its mode has group/other bits).
 */
export async function readStateJson(
  path: string,
  onLoose?: (mode: number) => void,
): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw stateFileError(path, `cannot be read (${code ?? 'error'})`, err);
  }
  try {
    const mode = (await stat(path)).mode & 0o777;
    if (mode & 0o077) onLoose?.(mode);
  } catch {
    // Gone between read and stat: the read content is what counts.
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8's message quotes the text around the error: it may hold a secret. Keep the position only.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw stateFileError(path, `is not valid JSON${at ? ` (at character ${at})` : ''}`);
  }
}

/** Write `value` as JSON to `path` with mode 0600, atomically. */
export async function writeStateJson(path: string, value: unknown): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await rm(tmp, { force: true });
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  // The mode of `open` is filtered by the umask; 0600 needs no more than that, but be exact.
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
