/** This package's version, sent as the MCP client version. */
export const SDK_VERSION = '0.1.0';
/** The MCP client name announced in `initialize`. */
export const SDK_NAME = 'lime-agents-sdk';
