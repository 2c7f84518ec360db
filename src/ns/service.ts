// Resolving a service NAME for nsvisor ns: needs the running supervisor's control socket, which does not exist yet.
import * as fs from 'fs';

import { CliError } from '../cli/errors';

/** The supervisor's default control socket (SPEC section 2, supervisor.control). */
export const DEFAULT_CONTROL_SOCKET = '/run/nsvisor/nsvisor.sock';

/**
 * The host pid of service `name`. Without a control socket the name cannot be resolved: exit 3
 * ("supervisor not reachable"). Talking to a live supervisor is not written yet: exit 1.
 */
export function resolveServicePid(name: string, socketPath = DEFAULT_CONTROL_SOCKET): never {
  if (!fs.existsSync(socketPath)) {
    throw new CliError(
      `ns ${name}: no supervisor control socket at ${socketPath} (service names need a running \`nsvisor run\`)`,
      3,
    );
  }
  throw new CliError(
    `ns ${name}: a control socket exists at ${socketPath}, but asking the supervisor for a service's pid is not implemented yet; pass the pid instead`,
    1,
  );
}
