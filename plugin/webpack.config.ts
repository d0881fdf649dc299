import CopyWebpackPlugin from 'copy-webpack-plugin';
import path from 'node:path';
import type { Configuration } from 'webpack';
import grafanaConfig, { type Env } from './.config/webpack/webpack.config.ts';

// Extends the scaffolded config the way create-plugin documents: the dashboards
// the app includes are the ones provisioning/ serves, copied, never duplicated,
// and the nested panel gets its logo.
export default async function config(env: Env): Promise<Configuration> {
  const base = await grafanaConfig(env);
  return {
    ...base,
    plugins: [
      ...(base.plugins ?? []),
      new CopyWebpackPlugin({
        patterns: [
          { from: path.resolve(process.cwd(), '../provisioning/dashboards/*.json'), to: 'dashboards/[name][ext]' },
          // The scaffold copies the app's logos only; the nested panel's sit beside its plugin.json.
          { from: 'panels/*/img/*.svg', to: '[path][name][ext]' },
        ],
      }),
    ],
  };
}
