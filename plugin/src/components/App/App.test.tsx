import type { AppRootProps } from '@grafana/data';
import { setBackendSrv, type BackendSrv, type BackendSrvRequest } from '@grafana/runtime';
import { render, screen } from '@testing-library/react';
import React from 'react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AppSettings } from '../../utils/utils.plugin';
import App from './App';

/** A backend that answers every query with the SLA policy frame and records the SQL it was sent. */
function policyBackend(): string[] {
  const sqlTexts: string[] = [];
  setBackendSrv({
    fetch: (request: BackendSrvRequest) => {
      const body = request.data as { queries: Array<{ rawSql: string; datasource: { uid: string } }> };
      sqlTexts.push(`${body.queries[0]!.datasource.uid}: ${body.queries[0]!.rawSql}`);
      return of({
        data: {
          results: {
            A: {
              frames: [
                {
                  schema: {
                    fields: [
                      { name: 'severity', type: 'string' },
                      { name: 'ack_target_seconds', type: 'number' },
                      { name: 'resolve_target_seconds', type: 'number' },
                      { name: 'postmortem_due_seconds', type: 'number' },
                    ],
                  },
                  data: { values: [['SEV1'], [900], [3600], [172800]] },
                },
              ],
            },
          },
        },
      });
    },
  } as unknown as BackendSrv);
  return sqlTexts;
}

function renderApp(path: string, jsonData: AppSettings = {}) {
  const props = { meta: { id: 'incidentlens-analytics-app', jsonData } } as unknown as AppRootProps<AppSettings>;
  // Grafana mounts the app root under /a/<plugin id>/, as here.
  return render(
    <MemoryRouter initialEntries={[`/a/incidentlens-analytics-app${path}`]}>
      <Routes>
        <Route path="/a/incidentlens-analytics-app/*" element={<App {...props} />} />
      </Routes>
    </MemoryRouter>
  );
}

describe('App', () => {
  it('routes to the SLA policy page, which reads lens.sla_policy through the provisioned datasource', async () => {
    const sqlTexts = policyBackend();
    renderApp('/sla-policy');
    expect(await screen.findByText('required, due 2d after resolve')).toBeInTheDocument();
    expect(sqlTexts[0]).toMatch(/^incident-lens-pg: [\s\S]*FROM lens\.sla_policy/);
  });

  it('reads through the datasource the settings name', async () => {
    const sqlTexts = policyBackend();
    renderApp('/sla-policy', { datasourceUid: 'other-pg' });
    await screen.findByText('SEV1');
    expect(sqlTexts[0]).toMatch(/^other-pg: /);
  });

  it('sends an unknown path to the Overview page', async () => {
    policyBackend();
    renderApp('/nowhere');
    expect(await screen.findByRole('region', { name: 'MTTA (mean)' })).toBeInTheDocument();
  });
});
