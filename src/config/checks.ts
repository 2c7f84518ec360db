// Checks that span several keys of a configuration: dependencies, networks, namespaces a key needs, limits that contradict.
import { z } from 'zod';

import { parseIPv4, parseSubnet, placeInSubnet, Subnet } from './addresses';
import { DEFAULT_ISOLATE } from './isolation';
import { suggest } from './issues';
import { findCycles } from './order';

type Ctx = z.core.$RefinementCtx<unknown>;
type Path = (string | number)[];
type Raw = Record<string, unknown>;

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Keys that only work with a namespace, as the spawn code requires them. */
const NEEDS: [key: string, ns: string][] = [
  ['hostname', 'uts'],
  ['domainname', 'uts'],
  ['rootfs', 'mount'],
  ['mounts', 'mount'],
  ['readonlyRoot', 'mount'],
  ['time', 'time'],
  ['network', 'net'],
];

function unknownName(kind: string, name: string, known: string[]): string {
  const hint = suggest(name, known);
  return `unknown ${kind} ${JSON.stringify(name)}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''}`;
}

function checkNamespaces(svc: Raw, path: Path, ctx: Ctx): void {
  const isolate = Array.isArray(svc.isolate) ? strings(svc.isolate) : DEFAULT_ISOLATE;
  for (const [key, ns] of NEEDS) {
    const v = svc[key];
    const used = v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0);
    if (used && !isolate.includes(ns)) ctx.addIssue({ code: 'custom', path: [...path, key], message: `requires "${ns}" in isolate` });
  }
}

function checkNetwork(svc: Raw, path: Path, subnets: Map<string, Subnet | null>, ctx: Ctx): void {
  const net = svc.network;
  if (!isObject(net)) return;
  const at = [...path, 'network'];
  if (net.attach !== undefined && net.device !== undefined) {
    ctx.addIssue({ code: 'custom', path: at, message: 'give attach or device, not both' });
  }
  if (typeof net.attach === 'string' && !subnets.has(net.attach)) {
    ctx.addIssue({ code: 'custom', path: [...at, 'attach'], message: unknownName('network', net.attach, [...subnets.keys()]) });
  }
  if (typeof net.address !== 'string') return;
  if (net.attach === undefined) {
    ctx.addIssue({ code: 'custom', path: [...at, 'address'], message: 'needs attach (the network the address is on)' });
    return;
  }
  const subnet = subnets.get(String(net.attach));
  const address = parseIPv4(net.address);
  if (!subnet || address === null) return;
  const place = placeInSubnet(address, subnet);
  const of = `network ${net.attach} (${subnet.cidr})`;
  if (place === 'outside') ctx.addIssue({ code: 'custom', path: [...at, 'address'], message: `${net.address} is not in ${of}` });
  if (place === 'gateway') ctx.addIssue({ code: 'custom', path: [...at, 'address'], message: `${net.address} is the gateway of ${of}` });
  if (place === 'reserved') ctx.addIssue({ code: 'custom', path: [...at, 'address'], message: `${net.address} is not a host address of ${of}` });
}

function checkLimits(svc: Raw, path: Path, ctx: Ctx): void {
  const r = svc.resources;
  if (isObject(r) && typeof r.memory === 'number' && typeof r.memoryHigh === 'number' && r.memoryHigh > r.memory) {
    ctx.addIssue({ code: 'custom', path: [...path, 'resources', 'memoryHigh'], message: 'is above memory, so it would never apply' });
  }
  const rs = svc.restart;
  if (isObject(rs) && typeof rs.delay === 'number' && typeof rs.maxDelay === 'number' && rs.delay > rs.maxDelay) {
    ctx.addIssue({ code: 'custom', path: [...path, 'restart', 'delay'], message: 'is longer than maxDelay' });
  }
}

/** The port a tcp or http ready check connects to, or null for other checks. */
function readyPort(ready: unknown): number | null {
  if (!isObject(ready)) return null;
  if (ready.type === 'tcp' && typeof ready.port === 'number') return ready.port;
  if (ready.type !== 'http' || typeof ready.url !== 'string') return null;
  try {
    const url = new URL(ready.url);
    return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  } catch {
    return null;
  }
}

/** A tcp/http ready check on a port the supervisor holds proves nothing about the new instance of a zero-downtime restart. */
function checkReadyOnListen(svc: Raw, path: Path, ctx: Ctx): void {
  const port = readyPort(svc.ready);
  if (port === null || !Array.isArray(svc.listen)) return;
  const i = svc.listen.findIndex((l: unknown) => isObject(l) && l.type === 'tcp' && l.port === port);
  if (i < 0) return;
  ctx.addIssue({
    code: 'custom',
    path: [...path, 'ready'],
    message:
      `checks port ${port}, which the supervisor holds (listen[${i}]): it would be answered by the held socket or the old ` +
      'instance, not by the new one; use ready.notify, or ready.exec with a check of the instance itself',
  });
}

/** `privileged: true` turns every protection off: a key that sets one of them too says two things at once. */
function checkPrivileged(svc: Raw, path: Path, ctx: Ctx): void {
  if (svc.privileged !== true) return;
  // The values given (the defaults are filled in by now): any but the default says something privileged undoes.
  const set = { capabilities: svc.capabilities !== 'default', seccomp: svc.seccomp !== 'default', devices: strings(svc.devices).length > 0 };
  for (const [key, given] of Object.entries(set)) {
    if (given) ctx.addIssue({ code: 'custom', path: [...path, key], message: `has no effect with privileged: true (it keeps every capability, no filter and the host's /dev); remove one of the two` });
  }
}

/** Two services cannot have the same address on a network, nor hold the same listening socket. */
function checkClashes(services: Raw, ctx: Ctx): void {
  const owners = new Map<string, string>();
  const claim = (what: string, name: string, path: Path, message: string) => {
    const owner = owners.get(what);
    if (owner === undefined) owners.set(what, name);
    else ctx.addIssue({ code: 'custom', path, message: `${message} ${owner}` });
  };
  for (const [name, svc] of Object.entries(services)) {
    if (!isObject(svc)) continue;
    const net = svc.network;
    if (isObject(net) && typeof net.attach === 'string' && typeof net.address === 'string') {
      claim(`address ${net.attach} ${net.address}`, name, ['services', name, 'network', 'address'], `${net.address} is already the address of`);
    }
    if (!Array.isArray(svc.listen)) continue;
    svc.listen.forEach((l: unknown, i) => {
      const url = isObject(l) && typeof l.url === 'string' ? l.url : null;
      if (url) claim(`listen ${url}`, name, ['services', name, 'listen', i], `${url} is already held by`);
    });
  }
}

/** Adds an issue, with its exact path, for every cross-key problem of a (possibly partly invalid) configuration. */
export function checkConfig(config: unknown, ctx: Ctx): void {
  if (!isObject(config)) return;
  const services = isObject(config.services) ? config.services : {};
  const networks = isObject(config.networks) ? config.networks : {};
  const subnets = new Map<string, Subnet | null>();
  for (const [name, n] of Object.entries(networks)) {
    let subnet: Subnet | null = null;
    try {
      subnet = isObject(n) && typeof n.subnet === 'string' ? parseSubnet(n.subnet) : null;
    } catch {
      // reported by the schema
    }
    subnets.set(name, subnet);
  }
  const names = Object.keys(services);
  const deps = new Map<string, string[]>();
  for (const [name, svc] of Object.entries(services)) {
    if (!isObject(svc)) continue;
    const path = ['services', name];
    const dependsOn = strings(svc.dependsOn);
    dependsOn.forEach((dep, i) => {
      if (!names.includes(dep)) ctx.addIssue({ code: 'custom', path: [...path, 'dependsOn', i], message: unknownName('service', dep, names.filter((n) => n !== name)) });
    });
    deps.set(name, dependsOn);
    checkNamespaces(svc, path, ctx);
    checkNetwork(svc, path, subnets, ctx);
    checkLimits(svc, path, ctx);
    checkReadyOnListen(svc, path, ctx);
    checkPrivileged(svc, path, ctx);
  }
  checkClashes(services, ctx);
  for (const cycle of findCycles(deps)) {
    ctx.addIssue({ code: 'custom', path: ['services'], message: `dependency cycle ${cycle.join(' -> ')}` });
  }
}
