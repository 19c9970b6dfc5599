// The example agent worker, importable by the demo and the tests.
export type { AgentWorkerOptions, AgentWorkerResult, AgentWorkerStep } from './run-agent-worker.js';
export { runAgentWorker } from './run-agent-worker.js';
