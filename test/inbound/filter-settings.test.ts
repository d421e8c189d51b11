import { parseReceivedTriggerSettings } from '../../shared/hosting/trigger-settings';
import { matchesFilter } from '../../shared/inbound/filter';
import { receivedMessage } from '../../shared/inbound/received';
import { incomingText } from '../support/incoming';

const place = { account: { id: 'wa-1', phone: '15105566777' }, chat: { chatId: '7', name: 'Alice' } };

describe('received-message triggers: settings and filter', () => {
  it('reads editor fields, lists from text or arrays, with defaults', () => {
    expect(parseReceivedTriggerSettings({})).toEqual({
      ok: true,
      value: { filter: { accounts: [], chats: [], chatKinds: 'all', types: [], includeOwn: false }, markRead: false, downloadMedia: false, maxMediaBytes: 16 * 1_048_576 },
    });
    expect(
      parseReceivedTriggerSettings({ accounts: '+15105566777, wa-2', chats: '7\n12@g.us', chatKinds: 'groups', types: ['text', 'image'], includeOwn: true, markRead: 'true', downloadMedia: true, maxMediaMB: '2' }),
    ).toEqual({
      ok: true,
      value: {
        filter: { accounts: ['+15105566777', 'wa-2'], chats: ['7', '12@g.us'], chatKinds: 'groups', types: ['text', 'image'], includeOwn: true },
        markRead: true,
        downloadMedia: true,
        maxMediaBytes: 2 * 1_048_576,
      },
    });
  });

  it('refuses each bad field with a sentence naming it', () => {
    expect(parseReceivedTriggerSettings({ chatKinds: 'channels' })).toEqual({
      ok: false,
      rejection: { status: 400, field: 'chatKinds', message: 'Setting "chatKinds" must be "all", "direct" or "groups"; got "channels".' },
    });
    expect(parseReceivedTriggerSettings({ types: 'text, gif' })).toMatchObject({
      ok: false,
      rejection: { field: 'types', message: expect.stringMatching(/^Setting "types" names an unknown message type "gif"; use any of text, image/) },
    });
    expect(parseReceivedTriggerSettings({ maxMediaMB: 'lots' })).toMatchObject({ ok: false, rejection: { field: 'maxMediaMB' } });
  });

  it('matches by account (id or phone), chat (id or JID), kind, type and own messages', () => {
    const message = receivedMessage(incomingText(), place);
    expect(matchesFilter(message, {})).toBe(true);
    expect(matchesFilter(message, { accounts: ['+15105566777'] })).toBe(true);
    expect(matchesFilter(message, { accounts: ['wa-1'] })).toBe(true);
    expect(matchesFilter(message, { accounts: ['wa-2'] })).toBe(false);
    expect(matchesFilter(message, { chats: ['7'] })).toBe(true);
    expect(matchesFilter(message, { chats: ['14155550123@s.whatsapp.net'] })).toBe(true);
    expect(matchesFilter(message, { chats: ['8'] })).toBe(false);
    expect(matchesFilter(message, { chatKinds: 'groups' })).toBe(false);
    expect(matchesFilter(message, { chatKinds: 'direct' })).toBe(true);
    expect(matchesFilter(message, { types: ['image'] })).toBe(false);
    const own = receivedMessage(incomingText({ fromMe: true }), place);
    expect(matchesFilter(own, {})).toBe(false);
    expect(matchesFilter(own, { includeOwn: true })).toBe(true);
  });

  it('completes a LID-only sender\'s phone from the directory map, and names the participant in groups', () => {
    const lidOnly = incomingText({ chatJid: '1203@g.us', isGroup: true, sender: { jid: '555@lid', phone: null, lid: '555@lid', pushName: 'Bob' } });
    const message = receivedMessage(lidOnly, place, (lid) => (lid === '555@lid' ? '14155550999' : null));
    expect(message.sender).toEqual({ jid: '555@lid', phone: '14155550999', lid: '555@lid', push_name: 'Bob' });
    expect(message.participant).toEqual(message.sender);
    expect(message.is_group).toBe(true);
  });
});
