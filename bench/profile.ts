/** Reads a V8 .cpuprofile and says where the time went: top functions and packages by self time. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  /** Share of the busy (non-idle) time, %. */
  percent: number;
  ms: number;
}

export interface ProfileSummary {
  /** Profiled wall time, ms. */
  wallMs: number;
  /** Time not idle, ms (the node's CPU time, roughly). */
  busyMs: number;
  functions: SelfTime[];
  areas: SelfTime[];
}

/** Where a script lives, short: `ws`, `fastify`, `node:internal`, `apps/registry/.../x.js`. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const dist = url.indexOf('/dist/');
  return dist !== -1 ? url.slice(dist + '/dist/'.length) : url;
}

function label(frame: CpuProfileNode['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  const modules = frame.url.lastIndexOf('node_modules/');
  const file =
    modules !== -1
      ? frame.url.slice(modules + 'node_modules/'.length)
      : frame.url.startsWith('node:')
        ? frame.url
        : path.basename(frame.url);
  return `${name} ${file.replace(/^file:\/\//, '')}:${frame.lineNumber + 1}`;
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  let busy = 0;
  // Sample i lasts until sample i + 1 (timeDeltas[i + 1] µs).
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') continue;
    busy += us;
    const fn = label(node.callFrame);
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const rank = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({
        name,
        percent: Number(((us / Math.max(1, busy)) * 100).toFixed(1)),
        ms: Math.round(us / 1000),
      }));
  return {
    wallMs: Math.round((profile.endTime - profile.startTime) / 1000),
    busyMs: Math.round(busy / 1000),
    functions: rank(functions),
    areas: rank(areas),
  };
}
