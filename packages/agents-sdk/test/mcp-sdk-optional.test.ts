// The MCP SDK is an optional peer dependency: nothing loads it until the MCP
// lane is used, and a missing package is a typed error naming it. (The
// install benchmark checks the same on a real install without the package.)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError, McpSdkMissingError } from 'lime-agents-sdk';
import { loadMcpSdk } from 'lime-agents-sdk/internal/load-mcp-sdk';
import { describe, expect, it } from 'vitest';

const src = new URL('../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

describe('the optional MCP SDK peer', () => {
  it('is imported at run time only by the lazy loader', () => {
    const runtime: string[] = [];
    for (const file of sources(src)) {
      const text = readFileSync(file, 'utf8');
      // Static value imports/re-exports (not `import type`/`export type`) of the MCP SDK.
      for (const m of text.matchAll(
        /^(import|export)\s+(?!type\b)[^;]*?from\s+'@modelcontextprotocol\/sdk[^']*'/gms,
      )) {
        runtime.push(`${file.slice(src.length)}: ${m[0].split('\n')[0]}`);
      }
      if (/import\('@modelcontextprotocol\/sdk/.test(text) && !file.endsWith('load-mcp-sdk.ts')) {
        runtime.push(`${file.slice(src.length)}: dynamic import`);
      }
    }
    expect(runtime).toEqual([]);
  });

  it('when neither line is installed, the MCP lane raises McpSdkMissingError naming the package', async () => {
    const notFound = (name: string) =>
      Object.assign(
        new Error(
          `Cannot find package '${name}' imported from /app/node_modules/lime-agents-sdk/dist/index.js`,
        ),
        { code: 'ERR_MODULE_NOT_FOUND' },
      );
    const tried: string[] = [];
    const error = await loadMcpSdk('auto', (line) => {
      tried.push(line);
      return Promise.reject(
        notFound(line === 'v1' ? '@modelcontextprotocol/sdk' : '@modelcontextprotocol/client'),
      );
    }).catch((e: unknown) => e);
    expect(tried).toEqual(['v1', 'v2']);
    expect(error).toBeInstanceOf(McpSdkMissingError);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({
      code: 'CONFIGURATION_ERROR',
      packageName: '@modelcontextprotocol/sdk',
    });
    expect((error as Error).message).toContain('npm install @modelcontextprotocol/sdk');
    expect((error as Error).message).toContain('@modelcontextprotocol/client');
  });

  it("'auto' falls back to the 2.x client when 1.x is missing", async () => {
    const v2 = await loadMcpSdk('auto', (line) =>
      line === 'v1'
        ? Promise.reject(
            Object.assign(new Error("Cannot find package '@modelcontextprotocol/sdk'"), {
              code: 'ERR_MODULE_NOT_FOUND',
            }),
          )
        : loadMcpSdk('v2'),
    );
    expect(v2.line).toBe('v2');
  });

  it('passes other load failures through unchanged', async () => {
    const broken = new SyntaxError('Unexpected token in zod');
    await expect(loadMcpSdk('auto', () => Promise.reject(broken))).rejects.toBe(broken);
  });

  it('loads the installed SDK once', async () => {
    const [a, b] = await Promise.all([loadMcpSdk(), loadMcpSdk()]);
    expect(a.Client).toBe(b.Client);
    expect(typeof a.StreamableHTTPClientTransport).toBe('function');
  });
});
