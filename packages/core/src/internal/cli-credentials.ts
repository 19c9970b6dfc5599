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

  let siteId: string;
  let siteToken: string;
  if (kept && records?.sites.get(kept.siteId) === hashToken(kept.siteToken)) {
    ({ siteId, siteToken } = kept);
  } else if (kept && records?.sites.has(kept.siteId)) {
    siteId = kept.siteId;
    ({ siteToken } = await admin.rotateSiteToken(siteId));
    notes.push(
      `the kept token of site ${siteId} was rotated or revoked meanwhile: printing a new one`,
    );
  } else {
    if (kept) notes.push(`site ${kept.siteId} is not in the state any more: created a new site`);
    ({ siteId, siteToken } = await admin.createSite({ name: 'local site' }));
  }

  let agentId: string;
  let agentToken: string;
  if (kept && records?.agents.get(kept.agentId) === hashToken(kept.agentToken)) {
    ({ agentId, agentToken } = kept);
  } else if (kept && records?.agents.has(kept.agentId)) {
    agentId = kept.agentId;
    ({ agentToken } = await admin.rotateAgentToken(agentId));
    notes.push(
      `the kept token of agent ${agentId} was rotated or revoked meanwhile: printing a new one`,
    );
  } else {
    if (kept) notes.push(`agent ${kept.agentId} is not in the state any more: created a new agent`);
    ({ agentId, agentToken } = await admin.createAgent({ displayName: 'local agent' }));
  }

  const credentials = { siteId, siteToken, agentId, agentToken };
  const same =
    kept !== undefined &&
    (Object.keys(credentials) as Array<keyof CliCredentials>).every(
      (k) => kept[k] === credentials[k],
    );
  if (stateDir && !same) await writeCliCredentials(stateDir, credentials);
  return { credentials, notes };
}
