import type { NodeAPI } from 'node-red';
import { registerAdminRoutes } from './admin-routes';

interface PluginApi {
  registerPlugin(id: string, definition: { readonly type: string }): void;
}

/**
 * The "WhatsApp" sidebar tab, a Node-RED editor plugin: its editor part (whatsapp-sidebar.html) lists
 * every deployed workspace from the admin endpoints, which it mounts here too so the tab never depends on
 * which of the package's files Node-RED loaded first (they mount once).
 */
export = function register(RED: NodeAPI): void {
  (RED as unknown as { plugins: PluginApi }).plugins.registerPlugin('whatsapp-sidebar', { type: 'whatsapp-sidebar' });
  registerAdminRoutes(RED);
};
