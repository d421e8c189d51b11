// n8n's community-node lint rules (eslint-plugin-n8n-nodes-base, the rules n8n's node starter runs),
// applied to package.json, the credential and the n8n nodes. Run with `bash scripts/n8n-lint.sh`.
'use strict';
module.exports = {
  root: true,
  env: { node: true, es2022: true },
  parser: '@typescript-eslint/parser',
  parserOptions: { sourceType: 'module', ecmaVersion: 2022, extraFileExtensions: ['.json'] },
  overrides: [
    {
      files: ['package.json'],
      plugins: ['n8n-nodes-base'],
      extends: ['plugin:n8n-nodes-base/community'],
    },
    {
      files: ['credentials/**/*.ts'],
      plugins: ['n8n-nodes-base'],
      extends: ['plugin:n8n-nodes-base/credentials'],
      // As n8n's node starter configures it: these two are for n8n's own docs site.
      rules: {
        'n8n-nodes-base/cred-class-field-documentation-url-missing': 'off',
        'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
      },
    },
    {
      files: ['nodes/n8n/**/*.ts'],
      plugins: ['n8n-nodes-base'],
      extends: ['plugin:n8n-nodes-base/nodes'],
      // As n8n's node starter configures them.
      rules: {
        'n8n-nodes-base/node-execute-block-missing-continue-on-fail': 'off',
        'n8n-nodes-base/node-resource-description-filename-against-convention': 'off',
        'n8n-nodes-base/node-param-fixed-collection-type-unsorted-items': 'off',
      },
    },
  ],
};
