#!/usr/bin/env node
// The `lime-core` command: start a Core, print ready credentials, serve until
// SIGINT/SIGTERM, then shut down gracefully.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigurationError } from '@lime/wire';
import { CLI_USAGE, parseCliArgs } from './internal/cli-args.js';
import { readCliCredentials, readyCredentials } from './internal/cli-credentials.js';
import { startCore } from './start-core.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof parseCliArgs>;
  try {
    config = parseCliArgs(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`lime-core: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (config.help) {
    process.stdout.write(CLI_USAGE);
    return;
  }
  let signingKey: string | undefined;
  if (config.signingKeyFile) {
    try {
      signingKey = readFileSync(config.signingKeyFile, 'utf8');
    } catch (err) {
      process.stderr.write(
        `lime-core: cannot read --signing-key-file: ${(err as NodeJS.ErrnoException).code ?? 'error'}\n`,
      );
      process.exitCode = 2;
      return;
    }
  }
  const stateDir = config.options.stateDir && resolve(config.options.stateDir);
  // Read before starting: a damaged file fails the start before the port is taken.
  const kept = stateDir ? await readCliCredentials(stateDir) : undefined;
  const core = await startCore({
    ...config.options,
    ...(stateDir ? { stateDir } : {}),
    ...(signingKey ? { signingKey } : {}),
    log: (entry) => {
      if (entry.level !== 'info' || config.verbose) {
        process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
      }
    },
  });
  let ready: Awaited<ReturnType<typeof readyCredentials>>;
  try {
    ready = await readyCredentials(core.admin, stateDir, kept);
  } catch (err) {
    await core.close();
    throw err;
  }
  const { siteId, siteToken, agentId, agentToken } = ready.credentials;
  // Before the banner: whoever reads 'Press Ctrl-C' may signal at once.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`\n${signal}: shutting down…\n`);
    core.close().then(
      () => {
        process.stdout.write('stopped.\n');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  for (const note of ready.notes) process.stderr.write(`lime-core: ${note}\n`);
  process.stdout.write(
    [
      'LIME reference Core is running.',
      `  API base      ${core.apiBase}`,
      `  base URL      ${core.url}`,
      `  issuer        ${core.issuer}`,
      `  profile       ${core.profile}`,
      stateDir
        ? `  state         ${stateDir}  (kept across restarts; --ephemeral keeps nothing)`
        : '  state         none (--ephemeral): new tokens and keys on every start',
      `  admin API     ${core.url}/admin/v1  (Authorization: Bearer <admin token>)`,
      `  admin token   ${core.adminToken}`,
      `  site          ${siteId}`,
      `  site token    ${siteToken}`,
      `  agent         ${agentId}`,
      `  agent token   ${agentToken}`,
      '',
      `  export LIME_API_BASE=${core.apiBase}`,
      `  export LIME_BASE_URL=${core.url}`,
      `  export LIME_SITE_TOKEN=${siteToken}`,
      `  export LIME_AGENT_TOKEN=${agentToken}`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  let message = err instanceof Error ? err.message : String(err);
  if (err instanceof ConfigurationError && err.detail?.path !== undefined) {
    message += '\n  Or start with --ephemeral (keep nothing) or --state <another directory>.';
  }
  process.stderr.write(`lime-core: ${message}\n`);
  process.exitCode = 1;
});
