// Imported after the shared packages, as in Grafana's plugin loader: UMD builds among
// them (lodash) must have run before SystemJS's AMD extra puts a global `define` in place.
import 'systemjs/dist/system.js';
import 'systemjs/dist/extras/amd.js';
