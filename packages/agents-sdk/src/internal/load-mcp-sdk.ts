import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { MCP_CLIENT_V2_PACKAGE, MCP_SDK_PACKAGE, McpSdkMissingError } from '../errors.js';

/** Which line of the MCP TypeScript SDK the facade runs on. */
export type McpSdkLine = 'v1' | 'v2';

/**
 * The parts of the MCP SDK the facade uses, the same for both lines: the
 * monolithic 1.x `@modelcontextprotocol/sdk` and the split 2.x
 * `@modelcontextprotocol/client`. Their client API is the same but for
 * `callTool`'s arguments and the error of an expired session.
 */
export interface McpSdk {
  line: McpSdkLine;
  Client: typeof Client;
  StreamableHTTPClientTransport: typeof StreamableHTTPClientTransport;
  /** `client.callTool(params, options)`, whichever line. */
  callTool(
    client: Client,
    params: Parameters<Client['callTool']>[0],
    options: Parameters<Client['callTool']>[2],
  ): ReturnType<Client['callTool']>;
  /** The server answered 404 to a request with a session id: the session is gone. */
  sessionGone(error: unknown): boolean;
}

/** Imports the MCP SDK modules of one line; replaced in tests to simulate a missing package. */
export type McpSdkImporter = (line: McpSdkLine) => Promise<McpSdk>;

const importV1 = async (): Promise<McpSdk> => {
  const [client, transport] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]);
  const HttpError: typeof StreamableHTTPError = transport.StreamableHTTPError;
  return {
    line: 'v1',
    Client: client.Client,
    StreamableHTTPClientTransport: transport.StreamableHTTPClientTransport,
    callTool: (c, params, options) => c.callTool(params, undefined, options),
    sessionGone: (error) => error instanceof HttpError && error.code === 404,
  };
};

/** 2.x: same Client/transport API; `callTool(params, options)`; HTTP errors carry `status`. */
interface V2Module {
  Client: typeof Client;
  StreamableHTTPClientTransport: typeof StreamableHTTPClientTransport;
  SdkHttpError: new (...args: never[]) => Error & { status: number };
}

const importV2 = async (): Promise<McpSdk> => {
  const m = (await import(MCP_CLIENT_V2_PACKAGE)) as unknown as V2Module;
  return {
    line: 'v2',
    Client: m.Client,
    StreamableHTTPClientTransport: m.StreamableHTTPClientTransport,
    callTool: (c, params, options) =>
      (c.callTool as unknown as (p: unknown, o: unknown) => ReturnType<Client['callTool']>)(
        params,
        options,
      ),
    sessionGone: (error) => error instanceof m.SdkHttpError && error.status === 404,
  };
};

const importMcpSdk: McpSdkImporter = (line) => (line === 'v1' ? importV1() : importV2());

const loading = new Map<string, Promise<McpSdk>>();

/** Whether `error` says that the package `name` itself could not be found. */
function isMissing(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (
    (code === 'ERR_MODULE_NOT_FOUND' ||
      code === 'MODULE_NOT_FOUND' ||
      /Cannot find/i.test(message)) &&
    message.includes(name)
  );
}

/**
 * Load the MCP SDK on first use of the MCP lane. It is an optional peer
 * dependency, so a login-only worker never installs or parses it. `'auto'`
 * takes the 1.x `@modelcontextprotocol/sdk` when installed, else the 2.x
 * `@modelcontextprotocol/client`; when neither is, the MCP call fails with
 * {@link McpSdkMissingError} naming them. A failed load is not cached:
 * installing the package and calling again works without a restart.
 */
export function loadMcpSdk(
  preference: 'auto' | McpSdkLine = 'auto',
  importer: McpSdkImporter = importMcpSdk,
): Promise<McpSdk> {
  if (importer !== importMcpSdk) return load(preference, importer);
  let pending = loading.get(preference);
  if (!pending) {
    pending = load(preference, importer).catch((error: unknown) => {
      loading.delete(preference);
      throw error;
    });
    loading.set(preference, pending);
  }
  return pending;
}

async function load(preference: 'auto' | McpSdkLine, importer: McpSdkImporter): Promise<McpSdk> {
  const lines: McpSdkLine[] = preference === 'auto' ? ['v1', 'v2'] : [preference];
  let missing: unknown;
  for (const line of lines) {
    try {
      return await importer(line);
    } catch (error) {
      const name = line === 'v1' ? MCP_SDK_PACKAGE : MCP_CLIENT_V2_PACKAGE;
      if (!isMissing(error, name)) throw error;
      missing = error;
    }
  }
  throw new McpSdkMissingError({ cause: missing });
}
