// The set of services: start in dependency order (parallel where independent), stop in reverse, bounded by shutdownTimeout.
import { EventEmitter } from 'eventemitter3';
import { openCgroups } from './cgroup';
import { destroyAll } from './cgroup/driver';
import type { CgroupDriver } from './cgroup';
import { HostFacts, HostProblem, hostProblems, problemLine } from './config/host-checks';
import type { Config, NetworkConfig, ServiceConfig } from './config/schema';
import * as fs from 'fs';
import * as path from 'path';

import { dependencyOrder } from './config/order';
import { Masquerade } from './net/masquerade';
import { Network } from './net/network';
import { describeWithStats, ServiceStatus } from './control/status';
import { LaunchFailure } from './launch/failure';
import { realHostFacts } from './process/host-context';
import { Instance, InstanceRuntime } from './service/instance';
import { AdoptConnections } from './service/adopt-connections';
import { takeListenSockets } from './service/adopted-sockets';
import { ListenSockets } from './service/listen-sockets';
import { realClock, ServiceRuntime } from './service/runtime';
import { notifyDirOf } from './service/notify';
import { ensureKeeperDir, identityProblem, keeperDir, KeeperState, readStates, removeKeeperFiles } from './service/keeper-files';
import { AdoptedChanges } from './reload/adopted-changes';
import { adoptionChange } from './reload/adoption';
import type { ListenAddress } from './config/addresses';
import { RestartMode, Service, ServiceEvents } from './service/service';

/** What the supervisor needs of a configuration. */
export type SupervisorSettings = Pick<Config, 'supervisor' | 'services'> & Partial<Pick<Config, 'networks'>>;

/** A declared network that could not be set up. */
export class NetworkSetupError extends Error {}

export interface SupervisorEvents extends ServiceEvents {
  /** A stop that ran out of time: the services still running were killed. */
  shutdownTimeout: (names: string[]) => void;
  /** A service was stopped and taken out of the supervisor. */
  removed: (name: string) => void;
  /** A service was added (by a reload); it has not started yet. */
  added: (name: string) => void;
  /** A service's definition changed (by a reload). */
  redefined: (name: string) => void;
  /** Something this host cannot do of the configuration (found at start); a permanent one makes its service failed. */
  hostProblem: (problem: HostProblem) => void;
  /** An instance a supervisor that died left was not taken over (`service` null when its state file says none). */
  notAdopted: (service: string | null, cgroup: string, why: string) => void;
  /**
   * An instance adopted with another definition than this configuration's went through the reload rules (`action`:
   * "definition changed: update in place (resources.memory)", "not in this configuration (instances: 1): stop"):
   * done (`error` null) or not.
   */
  adoptedChange: (service: string, instance: string, action: string, error: string | null) => void;
}

/** A number of instances that cannot be. */
export class ScaleError extends Error {}

export class UnknownServiceError extends Error {
  constructor(readonly service: string) {
    super(`unknown service "${service}"`);
  }
}

const FORWARDED: (keyof ServiceEvents)[] = [
  'state', 'attempt', 'exit', 'startFailed', 'notReady', 'backoff', 'health', 'unhealthy', 'trouble', 'spawned', 'ready', 'stopped', 'reaped', 'output',
  'adopted',
];

/** What restartAll did for one service. */
export interface RestartResult {
  name: string;
  mode?: RestartMode;
  /** Why it failed; a failed zero-downtime restart leaves the old instance serving. */
  error?: string;
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly services = new Map<string, Service>();
  readonly cgroups: CgroupDriver | null;
  /** The declared bridges by name: made (or reused) at start, removed at stop when nsvisor made them. */
  readonly networks = new Map<string, Network>();
  /** NAT of the networks with `nat: true`: nftables chains and ip_forward, made at start and removed at stop. */
  readonly masquerade: Masquerade;
  private networksUp: Promise<void> | null = null;
  /** Set by stop(): nothing starts after it, even a service whose dependencies become ready later. */
  private shuttingDown = false;
  /** What start() does before any service starts (adoption, stale cgroups, networks); stop() waits for it. */
  private prelude: Promise<void> | null = null;
  /** What the reload rules still do of instances adopted with another definition (their replacements). */
  private adoptedChanges: AdoptedChanges | null = null;
  private readonly devNull: number;
  private readonly instances: InstanceRuntime;

  /**
   * `settings` is the configuration in force (a reload changes it as it applies its steps). `runtime` defaults to
   * the configuration's: notify sockets beside the control socket, cgroups under cgroupRoot.
   */
  constructor(
    public settings: SupervisorSettings,
    runtime: Pick<InstanceRuntime, 'notifyDir' | 'cgroups'> = {
      notifyDir: notifyDirOf(settings.supervisor.control),
      cgroups: openCgroups({ root: settings.supervisor.cgroupRoot }),
    },
    /** What the host checks at start look at: this machine, seen by its supervisor. */
    private readonly hostFacts: () => HostFacts = () => realHostFacts({ isSupervisor: true }),
  ) {
    super();
    this.devNull = fs.openSync('/dev/null', 'r+');
    this.cgroups = runtime.cgroups;
    for (const [name, n] of Object.entries(settings.networks ?? {})) this.networks.set(name, new Network(name, n.subnet));
    this.masquerade = new Masquerade(this.natNetworks());
    this.instances = { ...runtime, devNull: this.devNull, networks: this.networks, adoptTimeout: () => this.settings.supervisor.adoptTimeout };
    for (const [name, s] of Object.entries(settings.services)) this.adopt(name, s);
  }

  /** The `nat: true` networks among those declared now. */
  natNetworks(): { name: string; cidr: string }[] {
    return [...this.networks.values()].filter((n) => this.settings.networks?.[n.name]?.nat).map((n) => ({ name: n.name, cidr: n.layout.subnet.cidr }));
  }

  private adopt(name: string, settings: ServiceConfig): Service {
    const service = new Service(name, settings, serviceRuntime(name, this.instances));
    for (const event of FORWARDED) service.on(event, (...args: unknown[]) => (this.emit as any)(event, ...args));
    this.services.set(name, service);
    return service;
  }

  /** A new service (a reload added it); start it with service(name).start(). */
  add(name: string, settings: ServiceConfig): Service {
    if (this.services.has(name)) throw new Error(`${name}: a service of that name exists already`);
    const service = this.adopt(name, settings);
    this.settings = { ...this.settings, services: { ...this.settings.services, [name]: settings } };
    this.emit('added', name);
    return service;
  }

  /** Records a service's new definition in the configuration in force (its Service has taken it). */
  redefined(name: string): void {
    this.settings = { ...this.settings, services: { ...this.settings.services, [name]: this.service(name).settings } };
    this.emit('redefined', name);
  }

  /** Makes (or reuses) a declared network's bridge; a network of that name already there is replaced (a new subnet). */
  addNetwork(name: string, config: NetworkConfig): void {
    const existing = this.networks.get(name);
    const fresh = new Network(name, config.subnet);
    // The same subnet (NAT switched, say): the network its instances hold leases on stays.
    const network = existing && existing.layout.subnet.cidr === fresh.layout.subnet.cidr ? existing : fresh;
    try {
      network.ensure();
    } catch (e) {
      throw new NetworkSetupError(`network ${name}: ${(e as Error).message}`);
    }
    this.networks.set(name, network);
    this.settings = { ...this.settings, networks: { ...this.settings.networks, [name]: config } };
  }

  /** Forgets a network nothing is attached to any more, removing its bridge when nsvisor made it and nobody holds an address on it. */
  removeNetwork(name: string): void {
    this.networks.get(name)?.remove();
    this.networks.delete(name);
    const networks = { ...this.settings.networks };
    delete networks[name];
    this.settings = { ...this.settings, networks };
  }

  service(name: string): Service {
    const s = this.services.get(name);
    if (!s) throw new UnknownServiceError(name);
    return s;
  }

  /**
   * Makes (or reuses) every declared bridge with its gateway address, removes NAT chains of dead supervisors and adds
   * the masquerade of the `nat` networks. Done once until the next stop. Throws a NetworkSetupError.
   */
  setupNetworks(): Promise<void> {
    this.networksUp ??= this.bringUpNetworks().catch((e) => {
      this.networksUp = null;
      throw e;
    });
    return this.networksUp;
  }

  private async bringUpNetworks(): Promise<void> {
    for (const n of this.networks.values()) {
      try {
        n.ensure();
      } catch (e) {
        throw new NetworkSetupError(`network ${n.name}: ${(e as Error).message}`);
      }
    }
    if (this.networks.size === 0) return;
    try {
      await this.masquerade.start();
    } catch (e) {
      throw new NetworkSetupError((e as Error).message);
    }
  }

  /** Removes our NAT (ip_forward back as it was) and the bridges nsvisor made that nobody holds an address on. */
  async teardownNetworks(): Promise<void> {
    this.networksUp = null;
    let failure: unknown = null;
    await this.masquerade.stop().catch((e) => (failure = e));
    for (const n of this.networks.values()) n.remove();
    if (failure) throw new NetworkSetupError((failure as Error).message);
  }

  /**
   * Starts every service once its dependencies are running; independent ones start together. Resolves when
   * each service has had its first outcome (running, backing off, failed) or waits on a dependency that is
   * not running; those keep waiting in the background and start when it is.
   */
  async start(): Promise<void> {
    // Instances a supervisor that died left running are taken over; the other cgroups it left (SIGKILL, power loss,
    // an instance not taken) must hold nothing now.
    this.prelude = (async () => {
      const adopted = await this.adoptInstances();
      await this.cgroups?.cleanupStale(adopted);
      await this.setupNetworks();
    })();
    await this.prelude;
    if (this.shuttingDown) return;
    this.checkHost();
    // An adopted instance whose definition changed is replaced once what it depends on runs, as a reload would.
    const replaced = memo(async (name: string) => this.adoptedChanges?.replace(name));
    const running = memo((name: string, self: (n: string) => Promise<void>) => {
      const s = this.service(name);
      return Promise.all(s.settings.dependsOn.map(self)).then(
        () => (this.shuttingDown ? undefined : replaced(name).then(() => (this.shuttingDown ? undefined : s.start()))),
        (e: Error) => {
          s.failure = `not started: a dependency did not start (${e.message})`;
          throw e;
        },
      );
    });
    const firstOutcome = memo(async (name: string, self: (n: string) => Promise<void>) => {
      const s = this.service(name);
      await Promise.all(s.settings.dependsOn.map(self));
      if (!this.shuttingDown) await replaced(name);
      if (!this.shuttingDown && s.settings.dependsOn.every((d) => this.service(d).state === 'running')) await s.settled();
    });
    for (const name of this.services.keys()) running(name).catch(() => undefined);
    await Promise.all([...this.services.keys()].map(firstOutcome));
  }

  /**
   * Takes over each instance a supervisor that died left in the keeper directory (same cgroupRoot) that is still the
   * process its state file names, in its slot, with the definition it runs; one whose definition differs in this
   * configuration then goes through the reload rules (AdoptedChanges: in place, replaced, or stopped). Says why of
   * every other one, whose files go (its cgroup goes with the leftovers). Makes the directory for this supervisor's
   * instances (with adoptTimeout > 0). Returns the cgroup names taken over.
   */
  private async adoptInstances(): Promise<Set<string>> {
    const taken = new Set<string>();
    if (!this.cgroups) return taken;
    const dir = keeperDir(this.settings.supervisor.cgroupRoot);
    const states = readStates(dir);
    const twinned = (st: KeeperState) => states.some((o) => !(o instanceof Error) && o !== st && o.service === st.service && o.slot === st.slot);
    const changes = (this.adoptedChanges = new AdoptedChanges(this));
    // Planned against this configuration as it is, before the room for the instances to stop is made in it.
    const planned = new Map(states.filter((st): st is KeeperState => !(st instanceof Error)).map((st) => [st, adoptionChange(st, this.settings.services[st.service])]));
    await changes.makeRoom([...planned].filter(([st, c]) => c.kind === 'stop' && !identityProblem(st)).map(([st]) => st));
    const connections = new AdoptConnections(dir, states);
    for (const st of states) {
      if (st instanceof Error) {
        this.emit('notAdopted', null, '?', st.message);
        continue;
      }
      const change = planned.get(st)!;
      const service = this.services.get(st.service);
      const slot = service?.slots[st.slot];
      const refused = change.kind === 'refuse' ? change.why : null;
      const why = identityProblem(st) ?? refused ?? (slot ? mismatch(st, slot.name, twinned(st)) : `no service ${st.service}, or not ${st.slot + 1} instances of it, in this configuration`);
      try {
        if (why) throw new Error(why);
        const runtime = { ...this.instances, keeperDir: dir, connections };
        const lastExit = st.lastExit && { ...st.lastExit, at: new Date(st.lastExit.at) };
        // The definition it runs: this configuration's when the same, else its own until the rules give it the new one.
        const settings = change.kind === 'adopt' ? this.settings.services[st.service] : st.settings!;
        const sockets = this.takeSockets(st, service!, settings.listen);
        const prior = slot!.settings;
        slot!.settings = settings;
        try {
          slot!.adopt((opts) => Instance.adopt(st, settings, runtime, { ...opts, instanceName: st.cgroup, listen: null, env: {} }), { ...st, lastExit });
        } catch (e) {
          slot!.settings = prior;
          sockets?.close();
          throw e;
        }
        if (sockets) service!.holdAdopted(sockets);
        taken.add(st.cgroup);
        changes.taken(st.service, slot!, change);
      } catch (e) {
        this.emit('notAdopted', st.service, st.cgroup, (e as Error).message);
        removeKeeperFiles(dir, st.cgroup);
      }
    }
    connections.closeRest();
    await changes.settle();
    if (this.settings.supervisor.adoptTimeout > 0) {
      try {
        this.instances.keeperDir = ensureKeeperDir(dir);
      } catch (e) {
        this.emit('notAdopted', null, dir, `cannot make the directory of the instances' sockets, so none can be adopted: ${(e as Error).message}`);
      }
    }
    return taken;
  }

  /** The listen sockets of the instance, when its service has some and holds none yet (another instance gave them). */
  private takeSockets(st: KeeperState, service: Service, addresses: ListenAddress[]): ListenSockets | null {
    if (!addresses.length || service.holdsSockets) return null;
    if (st.mainPid === null) throw new Error(`${st.service}: its main process is not known, so its listen sockets cannot be taken back`);
    return takeListenSockets(st.service, st.mainPid, addresses);
  }

  /**
   * The checks of `nsvisor check` against this host: each problem is said; a service with one that can never clear
   * is failed at once (no attempt, no retries), with the reasons in its status. The others start.
   */
  private checkHost(): void {
    // An adopted service's sockets are bound already, by it: its listen addresses are not checked.
    const held = (p: HostProblem) => p.service !== null && !!this.services.get(p.service)?.holdsSockets && p.path.startsWith(`services.${p.service}.listen[`);
    // Only the services with an instance still to start are checked: an adopted one runs already (and the checks of
    // a thousand adopted services would hold the event loop for seconds before status answers after an upgrade).
    const toStart = Object.entries(this.settings.services).filter(([name]) => this.services.get(name)!.slots.some((slot) => slot.state === 'stopped'));
    const problems = hostProblems({ ...(this.settings as Config), services: Object.fromEntries(toStart) }, this.hostFacts()).filter((p) => !held(p));
    for (const p of problems) this.emit('hostProblem', p);
    for (const [name, s] of this.services) {
      const fatal = problems.filter((p) => p.service === name && p.permanent);
      if (fatal.length && s.state === 'stopped') s.fail(fatal.map(problemLine).join('; '));
    }
  }

  /** Stops every service after the services that depend on it; kills what is left after shutdownTimeout. */
  async stop(): Promise<void> {
    this.shuttingDown = true;
    await this.prelude?.catch(() => undefined);
    const dependents = new Map<string, string[]>([...this.services.keys()].map((n) => [n, []]));
    for (const [name, s] of this.services) for (const d of s.settings.dependsOn) dependents.get(d)?.push(name);
    // One service whose stop fails (a signal the kernel refused) does not cut the shutdown short for the others.
    const failures: Error[] = [];
    const stopOne = memo((name, self) =>
      Promise.all(dependents.get(name)!.map(self))
        .then(() => this.service(name).stop())
        .catch((e: Error) => void failures.push(new Error(`${name}: ${e.message}`))),
    );
    const all = Promise.all([...this.services.keys()].map(stopOne));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.settings.supervisor.shutdownTimeout)));
    const timedOut = await Promise.race([all.then(() => false), late]);
    clearTimeout(timer);
    if (timedOut) {
      const left = [...this.services.values()].filter((s) => s.state !== 'stopped' && s.state !== 'failed');
      this.emit('shutdownTimeout', left.map((s) => s.name));
      for (const s of left) s.kill('SIGKILL');
      await all;
    }
    await this.removeLeftoverCgroups();
    this.removeKeeperDir();
    await this.teardownNetworks();
    if (failures.length) throw failures[0];
  }

  /** The keeper directory, once no instance of ours has files in it (and its parent, named after the root, if empty). */
  private removeKeeperDir(): void {
    const dir = this.instances.keeperDir;
    if (!dir) return;
    for (const d of [dir, path.dirname(dir)]) {
      try {
        fs.rmdirSync(d);
      } catch {
        return; // not empty (a file an instance could not remove, another supervisor's): left as it is
      }
    }
    this.instances.keeperDir = undefined;
  }

  /** Cgroups of our services an instance's teardown could not remove (it said so then): one more try, now nothing runs. */
  private async removeLeftoverCgroups(): Promise<void> {
    const cgroups = this.cgroups;
    if (!cgroups) return;
    // NAME, NAME.K (instance K), NAME[.K].rN (a replacement beside another instance).
    const serviceOf = (cgroup: string) => cgroup.replace(/(\.(\d+|r\d+))+$/, '');
    for (const name of cgroups.list().filter((n) => this.services.has(serviceOf(n)))) {
      await destroyAll(cgroups, (n) => n === name).catch((e: Error) => {
        this.emit('trouble', serviceOf(name), LaunchFailure.ofStep('remove the cgroup', name, `remove the leftover cgroup ${name}: ${e.message}`, false), name);
      });
    }
  }

  /**
   * Restarts services one at a time, dependencies first, going on past a failure: every service that is
   * running or trying to (never one stopped on purpose), without downtime where it can.
   */
  async restartAll(): Promise<RestartResult[]> {
    const results: RestartResult[] = [];
    for (const name of dependencyOrder(this.settings).flat()) {
      const s = this.services.get(name);
      if (!s || !['starting', 'running', 'backoff'].includes(s.state)) continue;
      try {
        results.push({ name, mode: await s.restart() });
      } catch (e) {
        results.push({ name, error: (e as Error).message });
      }
    }
    return results;
  }

  /**
   * Sets a service's number of instances at run time (SPEC 4.11): the new ones start, the highest ones stop; the
   * others are not touched. The configuration in force says `instances: n` afterwards.
   */
  async scale(name: string, n: number): Promise<void> {
    const s = this.service(name);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ScaleError(`${name}: expected a number of instances from 1 to 1000, got ${n}`);
    await s.scale(n);
    this.redefined(name);
  }

  /** Stops a service and takes it out of the set; its metrics series go with it. */
  async remove(name: string): Promise<void> {
    const s = this.service(name);
    for (const [other, o] of this.services) {
      if (o.settings.dependsOn.includes(name)) throw new Error(`${name}: cannot remove, ${other} depends on it`);
    }
    await s.stop();
    this.services.delete(name);
    s.removeAllListeners();
    const services = { ...this.settings.services };
    delete services[name];
    this.settings = { ...this.settings, services };
    this.emit('removed', name);
  }

  /** One line of facts per service, with cpu and memory, for status and the control API. */
  describe(): Promise<ServiceStatus[]> {
    return describeWithStats([...this.services.values()]);
  }
}

/** The real world of one service: instances on the launch path, listen sockets made here, the wall clock. */
function serviceRuntime(name: string, instances: InstanceRuntime): ServiceRuntime {
  return {
    spawn: (settings, opts) => Instance.spawn(name, settings, instances, opts),
    openListen: (service, addresses) => ListenSockets.open(service, addresses).catch((e) => Promise.reject(LaunchFailure.from(e))),
    clock: realClock,
  };
}

/**
 * Why an instance left by a supervisor that died does not fit the slot now, or null when it does. One made by a
 * zero-downtime restart (NAME.rN) is the slot's own once the instance it replaced is gone (`twinned`: it is not).
 */
function mismatch(st: KeeperState, slotName: string, twinned: boolean): string | null {
  const restarted = st.cgroup.startsWith(`${slotName}.r`) && /^\d+$/.test(st.cgroup.slice(slotName.length + 2));
  if (st.cgroup !== slotName && !(restarted && !twinned)) return `${st.cgroup} was an instance beside another (a restart was under way): not adopted`;
  return null;
}

/** A recursive function over service names, computed once per name. */
function memo(fn: (name: string, self: (name: string) => Promise<void>) => Promise<void>): (name: string) => Promise<void> {
  const done = new Map<string, Promise<void>>();
  const self = (name: string): Promise<void> => {
    if (!done.has(name)) done.set(name, fn(name, self));
    return done.get(name)!;
  };
  return self;
}

