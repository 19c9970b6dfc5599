import { describe, expect, it } from 'vitest';
import { domainProblem, normalizeMcpDomain } from '../src/domain.js';
import { toApiBase, toOrigin } from '../src/paths.js';

describe('MCP domain normalisation', () => {
  it('takes URLs and bare hosts, strips port, lowercases', () => {
    expect(normalizeMcpDomain('https://Tools.Example.com:8443/mcp')).toBe('tools.example.com');
    expect(normalizeMcpDomain('tools.example.com')).toBe('tools.example.com');
    expect(normalizeMcpDomain('localhost:3000')).toBe('localhost');
  });
  it('refuses IPs and userinfo with a reason', () => {
    expect(() => normalizeMcpDomain('http://127.0.0.1:80/mcp')).toThrow(/IP address/);
    expect(() => normalizeMcpDomain('http://[::1]/mcp')).toThrow(TypeError);
    expect(() => normalizeMcpDomain('https://u:p@example.com')).toThrow(/userinfo/);
    expect(domainProblem('Example.com')).toMatch(/lowercase/);
    expect(domainProblem('example.com:80')).toMatch(/port/);
  });
  it('converts between origin and API base', () => {
    expect(toApiBase('https://lime.pics/')).toBe('https://lime.pics/api/v1');
    expect(toApiBase('https://lime.pics/api/v1/')).toBe('https://lime.pics/api/v1');
    expect(toOrigin('https://lime.pics/api/v1')).toBe('https://lime.pics');
  });
});
