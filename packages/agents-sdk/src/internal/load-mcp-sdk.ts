import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { MCP_SDK_PACKAGE, McpSdkMissingError } from '../errors.js';

/** The parts of `@modelcontextprotocol/sdk` the MCP facade uses. */
export interface McpSdk {
  Client: typeof Client;
  StreamableHTTPClientTransport: typeof StreamableHTTPClientTransport;
  StreamableHTTPError: typeof StreamableHTTPError;
}

/** Imports the two MCP SDK modules; replaced in tests to simulate a missing package. */
export type McpSdkImporter = () => Promise<
  [
    typeof import('@modelcontextprotocol/sdk/client/index.js'),
    typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]
>;

const importMcpSdk: McpSdkImporter = () =>
  Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]);

let loading: Promise<McpSdk> | undefined;

/** Whether `error` says that `@modelcontextprotocol/sdk` itself could not be found. */
function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (
    (code === 'ERR_MODULE_NOT_FOUND' ||
      code === 'MODULE_NOT_FOUND' ||
      /Cannot find/i.test(message)) &&
    message.includes(MCP_SDK_PACKAGE)
  );
}

/**
 * Load the official MCP SDK on first use of the MCP lane. It is an optional
 * peer dependency, so a login-only worker never installs or parses it; when
 * it is missing, the MCP call fails with {@link McpSdkMissingError} naming
 * the package to install. A failed load is not cached: installing the
 * package and calling again works without a restart.
 */
export function loadMcpSdk(importer: McpSdkImporter = importMcpSdk): Promise<McpSdk> {
  if (importer !== importMcpSdk) return load(importer);
  loading ??= load(importer).catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function load(importer: McpSdkImporter): Promise<McpSdk> {
  try {
    const [client, transport] = await importer();
    return {
      Client: client.Client,
      StreamableHTTPClientTransport: transport.StreamableHTTPClientTransport,
      StreamableHTTPError: transport.StreamableHTTPError,
    };
  } catch (error) {
    if (isMissing(error)) throw new McpSdkMissingError({ cause: error });
    throw error;
  }
}
