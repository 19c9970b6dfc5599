// The state directory of a Core (CoreOptions.stateDir): what makes a local
// Core keep its identity across restarts. One JSON file, `state.json`, 0600:
// the admin token, the signing keys (private keys, with their rotation
// schedule), the issuer, and the site and agent records (token hashes only).
// A `lock` file holds the pid of the Core using the directory.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigurationError } from '@lime/wire';
import type { CoreLogEntry, CoreProfile } from '../options.js';
import type { AgentRecord, SiteRecord } from '../store.js';
import { kidOf, type SavedKeyring, type SavedSigningKey } from './signing-keys.js';
import { ensureStateDir, readStateJson, stateFileError, writeStateJson } from './state-files.js';

/** Name of the Core's file in a state directory. */
export const CORE_STATE_FILE = 'state.json';
const LOCK_FILE = 'lock';
/** Format of `state.json`; a newer one is refused, never rewritten. */
const FORMAT = 1;
const NOTE =
  'lime-core state of a local development Core: private signing keys and the admin token. Keep it private (mode 0600); never commit it.';

/** A saved key with its private key parsed. */
export type LoadedSigningKey = Omit<SavedSigningKey, 'privateKeyPem'> & { privateKey: KeyObject };

/** `state.json`, read and checked. */
export interface SavedCoreState {
  profile: CoreProfile;
  issuer: string | null;
  adminToken: string;
  keyring: { activeKid: string; keys: LoadedSigningKey[] };
  sites: SiteRecord[];
  agents: AgentRecord[];
}

/** Where a save reads the current state from. */
export interface CoreStateSources {
  keyring: () => SavedKeyring;
  /** Absent when a custom store keeps the records: the saved ones are kept as they are. */
  records: (() => { sites: SiteRecord[]; agents: AgentRecord[] }) | undefined;
  adminToken: string;
  issuer: string | null;
}

/** Lock files this process holds (a pid of ours in a lock we do not hold is stale). */
const heldLocks = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquireLock(dir: string): Promise<string> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600);
      try {
        await file.writeFile(`${process.pid}\n`);
      } finally {
        await file.close();
      }
      heldLocks.add(path);
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ConfigurationError(
          `state directory ${dir} cannot be locked (${(err as NodeJS.ErrnoException).code ?? 'error'}): check that it is writable`,
          { cause: err, detail: { path } },
        );
      }
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    const ours = pid === process.pid && !heldLocks.has(path);
    if (Number.isSafeInteger(pid) && pid > 0 && !ours && processAlive(pid)) {
      throw new ConfigurationError(
        `state directory ${dir} is in use by process ${pid} (another Core): stop that one, or give this one another state directory`,
        { detail: { path } },
      );
    }
    // Left by a Core that did not stop cleanly.
    await rm(path, { force: true });
  }
  throw new ConfigurationError(`state directory ${dir} could not be locked: try again`, {
    detail: { path },
  });
}

type Json = Record<string, unknown>;

/** Checks of one parsed file: every refusal names the file and the field. */
class Fields {
  constructor(private readonly path: string) {}

  fail(field: string, expected: string): never {
    throw stateFileError(this.path, `is damaged: ${field} must be ${expected}`);
  }

  object(value: unknown, field: string): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(field, 'an object');
    }
    return value as Json;
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.fail(field, 'an array');
    return value;
  }

  string(value: unknown, field: string, nullable = false): string | null {
    if (nullable && value === null) return null;
    if (typeof value !== 'string') this.fail(field, nullable ? 'a string or null' : 'a string');
    return value;
  }

  number(value: unknown, field: string, nullable = false): number | null {
    if (nullable && value === null) return null;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.fail(field, nullable ? 'a number or null' : 'a number');
    }
    return value;
  }

  boolean(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean') this.fail(field, 'true or false');
    return value;
  }

  tokenHash(value: unknown, field: string): string | null {
    if (value === null) return null;
    if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) {
      this.fail(field, '64 lowercase hex characters (a SHA-256) or null');
    }
    return value;
  }
}

function parseKey(f: Fields, value: unknown, field: string): LoadedSigningKey {
  const k = f.object(value, field);
  let privateKey: KeyObject | undefined;
  try {
    privateKey = createPrivateKey(f.string(k.privateKeyPem, `${field}.privateKeyPem`) as string);
  } catch (err) {
    if (err instanceof ConfigurationError) throw err;
  }
  if (privateKey?.asymmetricKeyType !== 'rsa') {
    f.fail(`${field}.privateKeyPem`, 'a PEM RSA private key');
  }
  return {
    privateKey,
    publishedAt: f.number(k.publishedAt, `${field}.publishedAt`) as number,
    activatesAt: f.number(k.activatesAt, `${field}.activatesAt`, true),
    retiredAt: f.number(k.retiredAt, `${field}.retiredAt`, true),
  };
}

function parseSite(f: Fields, value: unknown, field: string): SiteRecord {
  const s = f.object(value, field);
  return {
    siteId: f.string(s.siteId, `${field}.siteId`) as string,
    name: f.string(s.name, `${field}.name`) as string,
    tokenHash: f.tokenHash(s.tokenHash, `${field}.tokenHash`),
    suspended: f.boolean(s.suspended, `${field}.suspended`),
    createdAt: f.number(s.createdAt, `${field}.createdAt`) as number,
  };
}

function parseAgent(f: Fields, value: unknown, field: string): AgentRecord {
  const a = f.object(value, field);
  const kyc = a.userKycLevel;
  if (kyc !== null && typeof kyc !== 'number' && typeof kyc !== 'string') {
    f.fail(`${field}.userKycLevel`, 'a number, a string or null');
  }
  return {
    agentId: f.string(a.agentId, `${field}.agentId`) as string,
    userId: f.string(a.userId, `${field}.userId`) as string,
    displayName: f.string(a.displayName, `${field}.displayName`, true),
    avatarUrl: f.string(a.avatarUrl, `${field}.avatarUrl`, true),
    description: f.string(a.description, `${field}.description`, true),
    userKycLevel: kyc,
    agentReputation: f.number(a.agentReputation, `${field}.agentReputation`, true),
    tokenHash: f.tokenHash(a.tokenHash, `${field}.tokenHash`),
    oauthAllowed: f.boolean(a.oauthAllowed, `${field}.oauthAllowed`),
    createdAt: f.number(a.createdAt, `${field}.createdAt`) as number,
  };
}

/** Check a parsed `state.json`. Throws a ConfigurationError naming the file and the field. */
export function parseCoreState(path: string, json: unknown): SavedCoreState {
  const f = new Fields(path);
  const root = f.object(json, 'the document');
  if (root.format !== FORMAT) {
    if (typeof root.format === 'number' && root.format > FORMAT) {
      throw stateFileError(
        path,
        `has format ${root.format}, written by a newer lime-core (this one reads format ${FORMAT}): upgrade lime-core`,
      );
    }
    f.fail('format', String(FORMAT));
  }
  const profile = root.profile as CoreProfile;
  if (profile !== 'core' && profile !== 'hosted') f.fail('profile', "'core' or 'hosted'");
  const adminToken = f.string(root.adminToken, 'adminToken') as string;
  if (adminToken.length < 16) f.fail('adminToken', 'at least 16 characters');
  const ring = f.object(root.signingKeys, 'signingKeys');
  const activeKid = f.string(ring.activeKid, 'signingKeys.activeKid') as string;
  const keys = f
    .array(ring.keys, 'signingKeys.keys')
    .map((k, i) => parseKey(f, k, `signingKeys.keys[${i}]`));
  if (keys.length === 0) f.fail('signingKeys.keys', 'a non-empty array');
  if (!keys.some((k) => kidOf(k.privateKey) === activeKid)) {
    f.fail('signingKeys.activeKid', 'the kid of one of signingKeys.keys');
  }
  return {
    profile,
    issuer: f.string(root.issuer, 'issuer', true),
    adminToken,
    keyring: { activeKid, keys },
    sites: f.array(root.sites, 'sites').map((s, i) => parseSite(f, s, `sites[${i}]`)),
    agents: f.array(root.agents, 'agents').map((a, i) => parseAgent(f, a, `agents[${i}]`)),
  };
}

/**
 * An open state directory: the state saved by an earlier Core (if any),
 * saves of the current one (coalesced, one write at a time, each complete
 * before its promise settles) and the directory lock.
 */
export class CoreState {
  /** Set by startCore once the keyring and the store exist; saves read them. */
  sources: CoreStateSources | undefined;
  private chain: Promise<void> = Promise.resolve();
  private pending: Promise<void> | undefined;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly file: string,
    private readonly lockFile: string,
    /** What an earlier Core saved; undefined on a first start. */
    readonly saved: SavedCoreState | undefined,
    private readonly profile: CoreProfile,
    private readonly log: ((entry: CoreLogEntry) => void) | undefined,
  ) {}

  /** Open (and lock) `dir`, creating it if needed, and read what it holds. */
  static async open(
    dir: string,
    profile: CoreProfile,
    log: ((entry: CoreLogEntry) => void) | undefined,
  ): Promise<CoreState> {
    const abs = resolve(dir);
    await ensureStateDir(abs);
    const lockFile = await acquireLock(abs);
    const file = join(abs, CORE_STATE_FILE);
    try {
      const json = await readStateJson(file, (mode) =>
        log?.({
          level: 'warn',
          message: `state file ${file} has mode ${mode.toString(8).padStart(4, '0')} and holds private keys: chmod 600 it`,
        }),
      );
      const saved = json === undefined ? undefined : parseCoreState(file, json);
      if (saved && saved.profile !== profile) {
        throw new ConfigurationError(
          `state file ${file} belongs to a Core with profile '${saved.profile}', this one runs '${profile}' (ids and tokens differ between profiles): use one state directory per profile`,
          { detail: { path: file } },
        );
      }
      return new CoreState(abs, file, lockFile, saved, profile, log);
    } catch (err) {
      await releaseLock(lockFile);
      throw err;
    }
  }

  /** Write the current state; resolves once it is on disk. Saves asked for meanwhile share a write. */
  save(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.pending) {
      const write = this.chain.then(() => {
        this.pending = undefined;
        return this.write();
      });
      this.pending = write;
      this.chain = write.catch(() => {});
    }
    return this.pending;
  }

  /** {@link save} for callers that cannot wait (key activation, retirement): failures are logged. */
  saveSoon(): void {
    this.save().catch((err: unknown) =>
      this.log?.({
        level: 'error',
        message: `saving ${this.file} failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      }),
    );
  }

  /** Finish pending writes and release the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.chain;
    this.closed = true;
    await releaseLock(this.lockFile);
  }

  private async write(): Promise<void> {
    const sources = this.sources;
    if (!sources) return;
    const records = sources.records?.() ?? {
      sites: this.saved?.sites ?? [],
      agents: this.saved?.agents ?? [],
    };
    await writeStateJson(this.file, {
      format: FORMAT,
      note: NOTE,
      profile: this.profile,
      issuer: sources.issuer,
      adminToken: sources.adminToken,
      signingKeys: sources.keyring(),
      sites: records.sites,
      agents: records.agents,
    });
  }
}

async function releaseLock(path: string): Promise<void> {
  heldLocks.delete(path);
  await rm(path, { force: true });
}
