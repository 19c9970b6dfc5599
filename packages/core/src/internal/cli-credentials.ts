// The ready site and agent the CLI prints, kept in its state directory so a
// restart prints the same ones. The Core itself stores only token hashes;
// to print a token again the CLI must keep its plain text: this file (0600)
// holds the two demo tokens and nothing else. It sits next to state.json,
// which holds the signing keys — a stronger secret than these tokens — so
// keeping them here widens nothing that the directory did not already hold.
import { join } from 'node:path';
import { CORE_STATE_FILE, parseCoreState } from './core-state.js';
import { hashToken } from './credentials.js';
import { readStateJson, stateFileError, writeStateJson } from './state-files.js';

/** Name of the CLI's file in a state directory. */
export const CLI_CREDENTIALS_FILE = 'cli-credentials.json';
const FORMAT = 1;

/** What the CLI prints as the ready site and agent. */
export interface CliCredentials {
  siteId: string;
  siteToken: string;
  agentId: string;
  agentToken: string;
}

/** The credentials a CLI saved in `dir`, `undefined` when none. Throws on a damaged file. */
export async function readCliCredentials(dir: string): Promise<CliCredentials | undefined> {
  const path = join(dir, CLI_CREDENTIALS_FILE);
  const json = (await readStateJson(path)) as Record<string, unknown> | undefined;
  if (json === undefined) return undefined;
  const fields = ['siteId', 'siteToken', 'agentId', 'agentToken'] as const;
  if (typeof json !== 'object' || json === null || json.format !== FORMAT) {
    throw stateFileError(path, `is damaged: expected an object with format ${FORMAT}`);
  }
  for (const field of fields) {
    if (typeof json[field] !== 'string' || json[field] === '') {
      throw stateFileError(path, `is damaged: ${field} must be a non-empty string`);
    }
  }
  return {
    siteId: json.siteId as string,
    siteToken: json.siteToken as string,
    agentId: json.agentId as string,
    agentToken: json.agentToken as string,
  };
}

async function writeCliCredentials(dir: string, creds: CliCredentials): Promise<void> {
  await writeStateJson(join(dir, CLI_CREDENTIALS_FILE), {
    format: FORMAT,
    note: 'Demo tokens printed by the lime-core CLI, kept so a restart prints them again. Local development only; never commit.',
    ...creds,
  });
}

/** The admin operations the CLI needs (a subset of CoreAdmin). */
interface Provisioning {
  createSite(input: { name: string }): Promise<{ siteId: string; siteToken: string }>;
  createAgent(input: { displayName: string }): Promise<{ agentId: string; agentToken: string }>;
  rotateSiteToken(siteId: string): Promise<{ siteToken: string }>;
  rotateAgentToken(agentId: string): Promise<{ agentToken: string }>;
}

/**
 * The site and agent to print. With a state directory: the kept ones while
 * the Core still accepts their tokens; a token rotated or revoked meanwhile
 * (admin API) is rotated again so that one is known; a site or agent the
 * Core no longer has is created anew. `notes` says which of these happened.
 */
export async function readyCredentials(
  admin: Provisioning,
  stateDir: string | undefined,
  kept: CliCredentials | undefined,
): Promise<{ credentials: CliCredentials; notes: string[] }> {
  const notes: string[] = [];
  let records:
    | { sites: Map<string, string | null>; agents: Map<string, string | null> }
    | undefined;
  if (stateDir && kept) {
    // Written by startCore a moment ago: what the running Core holds.
    const path = join(stateDir, CORE_STATE_FILE);
    const state = parseCoreState(path, await readStateJson(path));
    records = {
      sites: new Map(state.sites.map((s) => [s.siteId, s.tokenHash])),
      agents: new Map(state.agents.map((a) => [a.agentId, a.tokenHash])),
    };
  }

  const site = await keepOrRenew(
    'site',
    kept && { id: kept.siteId, token: kept.siteToken },
    records?.sites,
    async (id) => (await admin.rotateSiteToken(id)).siteToken,
    async () => {
      const created = await admin.createSite({ name: 'local site' });
      return { id: created.siteId, token: created.siteToken };
    },
    notes,
  );
  const agent = await keepOrRenew(
    'agent',
    kept && { id: kept.agentId, token: kept.agentToken },
    records?.agents,
    async (id) => (await admin.rotateAgentToken(id)).agentToken,
    async () => {
      const created = await admin.createAgent({ displayName: 'local agent' });
      return { id: created.agentId, token: created.agentToken };
    },
    notes,
  );

  const credentials = {
    siteId: site.id,
    siteToken: site.token,
    agentId: agent.id,
    agentToken: agent.token,
  };
  const same =
    kept !== undefined &&
    (Object.keys(credentials) as Array<keyof CliCredentials>).every(
      (k) => kept[k] === credentials[k],
    );
  if (stateDir && !same) await writeCliCredentials(stateDir, credentials);
  return { credentials, notes };
}

interface Held {
  id: string;
  token: string;
}

/**
 * The kept site or agent while the Core holds its token (by hash); a new
 * token for it when the Core holds it under another token; a new one when
 * the Core no longer has it. `notes` says which of the last two happened.
 */
async function keepOrRenew(
  what: 'site' | 'agent',
  kept: Held | undefined,
  tokenHashes: Map<string, string | null> | undefined,
  rotate: (id: string) => Promise<string>,
  create: () => Promise<Held>,
  notes: string[],
): Promise<Held> {
  if (kept && tokenHashes?.get(kept.id) === hashToken(kept.token)) return kept;
  if (kept && tokenHashes?.has(kept.id)) {
    const token = await rotate(kept.id);
    notes.push(
      `the kept token of ${what} ${kept.id} was rotated or revoked meanwhile: printing a new one`,
    );
    return { id: kept.id, token };
  }
  if (kept) notes.push(`${what} ${kept.id} is not in the state any more: created a new ${what}`);
  return create();
}
