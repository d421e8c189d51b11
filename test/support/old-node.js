// Preloaded with --require: this process says it is Node.js 20, as an n8n or Node-RED on an old Node would.
Object.defineProperty(process.versions, 'node', { value: '20.20.2' });
