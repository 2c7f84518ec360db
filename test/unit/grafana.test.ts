// The Grafana dashboard: the committed JSON is the generated one, and the lint rules hold for every query.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { dashboard } from '../../grafana/src/dashboard';
import { DASHBOARD_FILE, dashboardJson } from '../../grafana/src/generate';
import { allPanels, baseMetric, metricsOf, panelQueries, rateProblems, selectorProblems } from '../../grafana/src/lint';
import { SupervisorMetrics } from '../../src/metrics';
import { FakeSupervisor } from './metrics-fakes';

describe('grafana: dashboard', () => {
  it('grafana/dashboard.json is what grafana/src generates (npm run grafana)', () => {
    assert.equal(fs.readFileSync(DASHBOARD_FILE, 'utf8'), dashboardJson());
  });

  it('is importable and provisionable: a datasource variable, no __inputs or ${DS_...}', () => {
    const text = dashboardJson();
    assert.ok(!text.includes('__inputs') && !text.includes('${DS_'));
    const vars = dashboard.templating?.list ?? [];
    assert.deepEqual(vars.map((v) => v.name), ['datasource', 'job', 'instance', 'name']);
    assert.equal(vars[0].type, 'datasource');
    for (const v of vars.slice(1)) assert.ok(v.multi && v.includeAll && v.allValue === '.*', v.name);
    for (const p of allPanels(dashboard)) assert.equal((p.datasource as { uid?: string }).uid, '${datasource}', p.title);
  });

  it('has a unit on every panel', () => {
    for (const p of allPanels(dashboard)) assert.ok(p.fieldConfig?.defaults.unit, `${p.title}: no unit`);
  });

  it('uses $__rate_interval in every rate and filters every selector by job, instance and name', () => {
    const problems = panelQueries(dashboard).flatMap((q) => [...rateProblems(q.expr), ...selectorProblems(q.expr)].map((p) => `${q.panel}: ${p}`));
    assert.deepEqual(problems, []);
    assert.ok(panelQueries(dashboard).length > 30);
  });

  it('names only metrics the registry has', async () => {
    const metrics = new SupervisorMetrics(new FakeSupervisor(), { stats: async () => [] });
    const known = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    const variableExprs = (dashboard.templating?.list ?? []).map((v) => (typeof v.query === 'object' ? String(v.query.query) : String(v.query ?? '')));
    const named = [...panelQueries(dashboard).map((q) => q.expr), ...variableExprs].flatMap(metricsOf);
    const unknown = [...new Set(named.map(baseMetric))].filter((n) => !known.has(n));
    assert.deepEqual(unknown, []);
  });

  it('every query parses as PromQL (promtool check rules, variables substituted)', function () {
    if (spawnSync('promtool', ['--version']).status !== 0) {
      if (process.env.NSVISOR_REQUIRE_PROMTOOL) throw new Error('promtool not installed (Debian: apt-get install prometheus)');
      this.skip();
    }
    const substitute = (e: string) => e.replace(/\$__rate_interval/g, '1m').replace(/\$__range/g, '1h').replace(/\$(job|instance|name)\b/g, '.*');
    const rules = panelQueries(dashboard).map((q, i) => `      - record: dashboard:query${i}\n        expr: ${JSON.stringify(substitute(q.expr))}`);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'grafana-')), 'rules.yml');
    fs.writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    fs.rmSync(path.dirname(file), { recursive: true });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('the lint rules catch what they are for', () => {
    assert.equal(rateProblems('rate(x{}[5m])').length, 1);
    assert.equal(rateProblems('increase(x{}[$__range])').length, 0);
    assert.equal(rateProblems('rate(x{}[$__range])').length, 1);
    assert.deepEqual(selectorProblems('nsvisor_service_tasks{job=~"$job", instance=~"$instance"}'), ['nsvisor_service_tasks: no name=~"$name"']);
    assert.equal(selectorProblems('nsvisor_service_tasks').length, 3);
    assert.deepEqual(metricsOf('histogram_quantile(0.5, sum by (le) (rate(nsvisor_collect_duration_seconds_bucket{a="b"}[1m])))'), ['nsvisor_collect_duration_seconds_bucket']);
  });
});
