import { Alert, LoadingPlaceholder } from '@grafana/ui';
import React, { type ReactNode } from 'react';

interface Props {
  loading: boolean;
  error?: string;
  /** What failed to load, for the error title. */
  subject: string;
  children: ReactNode;
}

/** Shows a query's error with its actionable message, a placeholder on the first load, and the content otherwise. */
export function QueryStatus({ loading, error, subject, children }: Props) {
  if (error) {
    return (
      <Alert severity="error" title={`Could not load ${subject}`}>
        {error}
      </Alert>
    );
  }
  if (loading) {
    return <LoadingPlaceholder text={`Loading ${subject}…`} />;
  }
  return <>{children}</>;
}
