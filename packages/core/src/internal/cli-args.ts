import type { CoreOptions } from '../options.js';

/** Where the CLI keeps its state unless told otherwise: relative to the working directory. */
export const DEFAULT_STATE_DIR = '.lime-core';

export const CLI_USAGE = `Usage: lime-core [options]

Start the reference LIME Core and print the API base, the admin token and a
ready site token and agent token. Sites, agents, their tokens and the signing
keys are kept in a state directory, so a restart prints the same tokens and
tokens minted before it still verify.

Options (environment variable in brackets):
  --port <n>          TCP port, 0 for any free one   [LIME_CORE_PORT]       default 8787
  --host <addr>       interface to listen on         [LIME_CORE_HOST]       default 127.0.0.1
  --difficulty <n>    PoW difficulty in bits, 0–64   [LIME_CORE_DIFFICULTY] default 15
  --public-url <url>  public origin, the token 'iss' [LIME_CORE_PUBLIC_URL] default the listening URL
  --admin-token <t>   admin bearer token (not saved) [LIME_CORE_ADMIN_TOKEN] default kept, else random
  --signing-key-file <path>  PEM RSA private key to sign with (added to the
                      kept keys)                      [LIME_CORE_SIGNING_KEY_FILE] default kept, else fresh
  --state <dir>       state directory: sites, agents, tokens, signing keys
                      (0700; private keys and the printed tokens in plain
                      text: local development only)   [LIME_CORE_STATE]      default ${DEFAULT_STATE_DIR}
  --ephemeral         keep nothing: fresh sites, agents, tokens and keys on
                      every start, nothing written (alias --no-state)
  --profile <p>       'core' (every extension on) or 'hosted' (behave like the
                      hosted platform: no resume, no broadcast, UUID ids, hosted
                      error codes, minimal passports; see the README)
                                                      [LIME_CORE_PROFILE]    default core
  --verbose           log one line per request (never secrets)
  --help              show this text
`;

export interface CliConfig {
  /** `options.stateDir` is absent with `--ephemeral`. */
  options: CoreOptions;
  /** Path of a PEM signing key to read, when given. */
  signingKeyFile: string | undefined;
  verbose: boolean;
  help: boolean;
}

function integer(flag: string, raw: string): number {
  if (!/^\d+$/.test(raw))
    throw new TypeError(`${flag} must be a non-negative integer, got '${raw.slice(0, 40)}'`);
  return Number(raw);
}

/** Parse argv (without node and script) and the environment. Throws TypeError on bad input. */
export function parseCliArgs(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): CliConfig {
  const values: Record<string, string | undefined> = {
    port: env.LIME_CORE_PORT,
    host: env.LIME_CORE_HOST,
    difficulty: env.LIME_CORE_DIFFICULTY,
    'public-url': env.LIME_CORE_PUBLIC_URL,
    'admin-token': env.LIME_CORE_ADMIN_TOKEN,
    'signing-key-file': env.LIME_CORE_SIGNING_KEY_FILE,
    profile: env.LIME_CORE_PROFILE,
    state: env.LIME_CORE_STATE || undefined,
  };
  let verbose = false;
  let ephemeral = false;
  let stateFlag = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--verbose') {
      verbose = true;
      continue;
    }
    if (arg === '--ephemeral' || arg === '--no-state') {
      ephemeral = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !(m[1]! in values))
      throw new TypeError(`unknown argument '${arg.slice(0, 40)}'; see --help`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new TypeError(`--${m[1]} needs a value`);
    values[m[1]!] = value;
    if (m[1] === 'state') stateFlag = true;
  }
  if (ephemeral && stateFlag) {
    throw new TypeError('--state and --ephemeral contradict each other: give one of them');
  }
  if (values.state === '') throw new TypeError('--state needs a directory');
  const options: CoreOptions = {
    port: values.port === undefined ? 8787 : integer('--port', values.port),
  };
  if (values.host !== undefined) options.host = values.host;
  if (values.difficulty !== undefined)
    options.powDifficulty = integer('--difficulty', values.difficulty);
  if (values['public-url'] !== undefined) options.publicUrl = values['public-url'];
  if (values['admin-token'] !== undefined) options.adminToken = values['admin-token'];
  if (values.profile !== undefined) {
    if (values.profile !== 'core' && values.profile !== 'hosted') {
      throw new TypeError(
        `--profile must be 'core' or 'hosted', got '${values.profile.slice(0, 40)}'`,
      );
    }
    options.profile = values.profile;
  }
  if (!ephemeral) options.stateDir = values.state ?? DEFAULT_STATE_DIR;
  return { options, signingKeyFile: values['signing-key-file'], verbose, help };
}
