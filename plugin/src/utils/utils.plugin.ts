import type { AppRootProps } from '@grafana/data';
import { createContext, useContext } from 'react';
import { DEFAULT_DATASOURCE_UID, DEFAULT_TIMEZONE } from '../constants';

/** What the app stores in its plugin settings (jsonData); edited on the Configuration page. */
export interface AppSettings {
  datasourceUid?: string;
  timezone?: string;
}

export interface ResolvedAppSettings {
  datasourceUid: string;
  timezone: string;
}

// Lets any page read the root props Grafana gives the app, without threading them through.
export const PluginPropsContext = createContext<AppRootProps<AppSettings> | null>(null);

export function resolveAppSettings(jsonData: AppSettings | undefined): ResolvedAppSettings {
  return {
    datasourceUid: jsonData?.datasourceUid?.trim() || DEFAULT_DATASOURCE_UID,
    timezone: jsonData?.timezone?.trim() || DEFAULT_TIMEZONE,
  };
}

export function useAppSettings(): ResolvedAppSettings {
  const props = useContext(PluginPropsContext);
  return resolveAppSettings(props?.meta.jsonData);
}
