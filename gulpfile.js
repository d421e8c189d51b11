// Copies the non-TypeScript assets that the engines load at run time (icons, Node-RED editor HTML,
// locale files, examples) next to the compiled JavaScript in dist/.
const { src, dest, parallel } = require('gulp');

const assetGlobs = ['nodes/**/*.{png,svg,html,json}', 'credentials/**/*.{png,svg}'];

function copyAssets() {
  return src(assetGlobs, { base: '.', allowEmpty: true, encoding: false }).pipe(dest('dist'));
}

exports.build = parallel(copyAssets);
exports.default = exports.build;
