import type { AppPluginMeta } from '@grafana/data';
import { setBackendSrv, type BackendSrv, type BackendSrvRequest, type FetchResponse } from '@grafana/runtime';
import { fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';
import { of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AppSettings } from '../../utils/utils.plugin';
import { AppConfigForm } from './AppConfig';

const reply = (body: { data: unknown }) => of(body as FetchResponse<unknown>);

const meta = {
  id: 'incidentlens-analytics-app',
  enabled: true,
  pinned: true,
  jsonData: { timezone: 'Europe/Berlin' },
} as unknown as AppPluginMeta<AppSettings>;

function recordingBackend(
  answer: (request: BackendSrvRequest) => ReturnType<BackendSrv['fetch']>
): BackendSrvRequest[] {
  const requests: BackendSrvRequest[] = [];
  setBackendSrv({
    fetch: (request: BackendSrvRequest) => (requests.push(request), answer(request)),
  } as unknown as BackendSrv);
  return requests;
}

describe('AppConfigForm', () => {
  it('starts from the provisioned datasource and the stored zone', () => {
    recordingBackend(() => reply({ data: {} }));
    render(<AppConfigForm meta={meta} />);
    expect(screen.getByLabelText('Datasource uid')).toHaveValue('incident-lens-pg');
  });

  it('tests the connection by reading the SLA policy through the datasource being edited', async () => {
    const requests = recordingBackend(() =>
      reply({
        data: {
          results: {
            A: { frames: [{ schema: { fields: [{ name: 'severities', type: 'number' }] }, data: { values: [[4]] } }] },
          },
        },
      })
    );
    render(<AppConfigForm meta={meta} />);
    fireEvent.change(screen.getByLabelText('Datasource uid'), { target: { value: 'reader-pg' } });
    await userEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    expect(await screen.findByText('Connected: the SLA policy has 4 severities.')).toBeInTheDocument();
    const body = requests[0]!.data as { queries: Array<{ datasource: { uid: string }; rawSql: string }> };
    expect(body.queries[0]!.datasource.uid).toBe('reader-pg');
    expect(body.queries[0]!.rawSql).toContain('lens.sla_policy');
  });

  it('shows why a connection failed', async () => {
    recordingBackend(() => throwError(() => ({ status: 404, data: { message: 'Data source not found' } })));
    render(<AppConfigForm meta={meta} />);
    await userEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    expect(await screen.findByText(/no datasource with uid 'incident-lens-pg'/)).toBeInTheDocument();
  });

  it('saves the settings into the app plugin settings', async () => {
    const requests = recordingBackend(() =>
      throwError(() => ({ status: 403, data: { message: 'Permission denied' } }))
    );
    render(<AppConfigForm meta={meta} />);
    await userEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(requests[0]).toMatchObject({
      url: '/api/plugins/incidentlens-analytics-app/settings',
      method: 'POST',
      data: { enabled: true, pinned: true, jsonData: { datasourceUid: 'incident-lens-pg', timezone: 'Europe/Berlin' } },
    });
    expect(await screen.findByText('Saving failed: Permission denied')).toBeInTheDocument();
  });
});
