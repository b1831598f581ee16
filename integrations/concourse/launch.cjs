// Runs one of the bundled scripts (dist/<name>.cjs), building the bundles first if they are
// missing (`node integrations/concourse/build.mjs` rebuilds them after a change to src/).
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

module.exports = function launch(name) {
  const bundle = join(__dirname, 'dist', `${name}.cjs`);
  if (!existsSync(bundle)) {
    // stdout carries the resource's answer to Concourse: the build's own output goes to stderr.
    execFileSync(process.execPath, [join(__dirname, 'build.mjs')], { stdio: ['ignore', 2, 2] });
  }
  require(bundle);
};
