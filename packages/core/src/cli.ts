#!/usr/bin/env node
// The `lime-core` command: start a Core, print ready credentials, serve until
// SIGINT/SIGTERM, then shut down gracefully.
import { readFileSync } from 'node:fs';
import { CLI_USAGE, parseCliArgs } from './internal/cli-args.js';
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
  const core = await startCore({
    ...config.options,
    ...(signingKey ? { signingKey } : {}),
    log: (entry) => {
      if (entry.level !== 'info' || config.verbose) {
        process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
      }
    },
  });
  const site = await core.admin.createSite({ name: 'local site' });
  const agent = await core.admin.createAgent({ displayName: 'local agent' });
  process.stdout.write(
    [
      'LIME reference Core is running.',
      `  API base      ${core.apiBase}`,
      `  issuer        ${core.issuer}`,
      `  profile       ${core.profile}`,
      `  admin API     ${core.url}/admin/v1  (Authorization: Bearer <admin token>)`,
      `  admin token   ${core.adminToken}`,
      `  site          ${site.siteId}`,
      `  site token    ${site.siteToken}`,
      `  agent         ${agent.agentId}`,
      `  agent token   ${agent.agentToken}`,
      '',
      `  export LIME_API_BASE=${core.apiBase}`,
      `  export LIME_SITE_TOKEN=${site.siteToken}`,
      `  export LIME_AGENT_TOKEN=${agent.agentToken}`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
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
}

main().catch((err: unknown) => {
  process.stderr.write(`lime-core: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
