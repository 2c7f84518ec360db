// Writes grafana/dashboard.json from dashboard.ts (`npm run grafana`); the unit tests compare the two.
import * as fs from 'fs';
import * as path from 'path';

import { dashboard } from './dashboard';

export const DASHBOARD_FILE = path.resolve(__dirname, '..', '..', '..', 'grafana', 'dashboard.json');

export const dashboardJson = (): string => JSON.stringify(dashboard, null, 2) + '\n';

if (require.main === module) {
  fs.writeFileSync(DASHBOARD_FILE, dashboardJson());
  process.stdout.write(`written: ${path.relative(process.cwd(), DASHBOARD_FILE)}\n`);
}
