import type { AppPluginMeta } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import React, { useContext } from 'react';
import { AppConfigForm } from '../components/AppConfig/AppConfig';
import { PluginPropsContext, type AppSettings } from '../utils/utils.plugin';

export function ConfigurationPage() {
  const props = useContext(PluginPropsContext);
  const meta = props?.meta ?? ({ jsonData: {} } as AppPluginMeta<AppSettings>);
  return (
    <PluginPage subTitle="Which PostgreSQL datasource the pages read, and the time zone reports are cut in.">
      <AppConfigForm meta={meta} />
    </PluginPage>
  );
}
