import { OUTSIDE_WINDOW_SENTENCE } from '../../shared/transport/cloud-api/errors';
import { webhookEvents } from '../../shared/transport/cloud-api/webhook-events';

const PHONE_ID = '106540352242922';
const wrap = (value: object, phoneNumberId = PHONE_ID) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: 'WABA', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550100000', phone_number_id: phoneNumberId }, ...value } }] }],
});

describe('Cloud API webhook events', () => {
  it('maps statuses to receipts by wamid; sent adds nothing; failed says why', () => {
    const events = webhookEvents(
      wrap({
        statuses: [
          { id: 'wamid.1', status: 'sent', recipient_id: '14151231234' },
          { id: 'wamid.1', status: 'delivered', recipient_id: '14151231234' },
          { id: 'wamid.1', status: 'read', recipient_id: '14151231234' },
          { id: 'wamid.2', status: 'failed', recipient_id: '14151231234', errors: [{ code: 131047, title: 'Re-engagement message' }] },
        ],
      }),
      PHONE_ID,
    );
    expect(events.statuses).toEqual([
      { messageId: 'wamid.1', status: 'delivered' },
      { messageId: 'wamid.1', status: 'read' },
      { messageId: 'wamid.2', status: 'failed', reason: OUTSIDE_WINDOW_SENTENCE },
    ]);
    expect(events.messages).toEqual([]);
  });

  it('reads only changes of its own number', () => {
    expect(webhookEvents(wrap({ statuses: [{ id: 'w', status: 'read' }] }, 'other'), PHONE_ID).statuses).toEqual([]);
    expect(webhookEvents(null).statuses).toEqual([]);
    expect(webhookEvents({ entry: 'x' }).messages).toEqual([]);
  });

  it('maps a text message with the sender, push name, quote and raw message', () => {
    const message = { from: '14151231234', id: 'wamid.in1', timestamp: '1700000000', type: 'text', text: { body: 'hello' }, context: { from: '15550100000', id: 'wamid.ours' } };
    const [incoming] = webhookEvents(wrap({ contacts: [{ profile: { name: 'Ann' }, wa_id: '14151231234' }], messages: [message] }), PHONE_ID).messages;
    expect(incoming).toMatchObject({
      id: 'wamid.in1',
      chatJid: '14151231234@s.whatsapp.net',
      isGroup: false,
      sender: { jid: '14151231234@s.whatsapp.net', phone: '14151231234', lid: null, pushName: 'Ann' },
      fromMe: false,
      at: 1_700_000_000_000,
      kind: 'text',
      text: 'hello',
      quoted: { id: 'wamid.ours', text: null, senderJid: '15550100000@s.whatsapp.net' },
      raw: message,
    });
  });

  it('reads the timestamp in whole milliseconds, and takes the time of arrival for one that is no date (missing, not a number, or past what a Date holds)', () => {
    const now = () => 1_750_000_000_000;
    const at = (timestamp: unknown) => webhookEvents(wrap({ messages: [{ from: '1415', id: 'x', timestamp, type: 'text', text: { body: 'hi' } }] }), PHONE_ID, now).messages[0]!.at;
    expect(at('1700000000')).toBe(1_700_000_000_000);
    expect(at('-1')).toBe(-1_000);
    // Whole milliseconds: the stores keep an integer (PostgreSQL's bigint refuses 1700000000000.5).
    expect(at('1700000000.5')).toBe(1_700_000_000_500);
    expect(Number.isInteger(at('1700000000.0005'))).toBe(true);
    for (const timestamp of [undefined, '', 'abc', '1e306', 1e306, 1e20, '9007199254740993', -1e13]) expect([timestamp, at(timestamp)]).toEqual([timestamp, 1_750_000_000_000]);
  });

  it('maps media, location, contacts, reactions, buttons and the unknown', () => {
    const messages = [
      { from: '1415', id: 'a', timestamp: '1', type: 'image', image: { id: 'm1', mime_type: 'image/jpeg', sha256: 'x', caption: 'look' } },
      { from: '1415', id: 'b', timestamp: '1', type: 'document', document: { id: 'm2', mime_type: 'application/pdf', filename: 'a.pdf' } },
      { from: '1415', id: 'c', timestamp: '1', type: 'audio', audio: { id: 'm3', mime_type: 'audio/ogg', voice: true } },
      { from: '1415', id: 'd', timestamp: '1', type: 'sticker', sticker: { id: 'm4', mime_type: 'image/webp' } },
      { from: '1415', id: 'e', timestamp: '1', type: 'location', location: { latitude: 52.5, longitude: 13.4, name: 'Here', address: 'Street 1' } },
      { from: '1415', id: 'f', timestamp: '1', type: 'contacts', contacts: [{ name: { formatted_name: 'Bob' }, phones: [{ phone: '+1' }] }] },
      { from: '1415', id: 'g', timestamp: '1', type: 'reaction', reaction: { message_id: 'wamid.ours', emoji: '👍' } },
      { from: '1415', id: 'h', timestamp: '1', type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'yes', title: 'Yes' } } },
      { from: '1415', id: 'i', timestamp: '1', type: 'button', button: { payload: 'p', text: 'Stop' } },
      { from: '1415', id: 'j', timestamp: '1', type: 'video', video: { id: 'm5', mime_type: 'video/mp4' } },
      { from: '1415', id: 'k', timestamp: '1', type: 'unsupported' },
    ];
    const out = webhookEvents(wrap({ messages }), PHONE_ID).messages;
    expect(out.map((m) => [m.id, m.kind, m.text])).toEqual([
      ['a', 'image', 'look'],
      ['b', 'document', null],
      ['c', 'voice', null],
      ['d', 'sticker', null],
      ['e', 'location', null],
      ['f', 'contact', null],
      ['g', 'reaction', null],
      ['h', 'text', 'Yes'],
      ['i', 'text', 'Stop'],
      ['j', 'video', null],
      ['k', 'other', null],
    ]);
    expect(out[0]!.media).toEqual({ mimetype: 'image/jpeg', size: null, fileName: null, seconds: null });
    expect(out[1]!.media).toMatchObject({ mimetype: 'application/pdf', fileName: 'a.pdf' });
    expect(out[4]!.location).toEqual({ latitude: 52.5, longitude: 13.4, name: 'Here', address: 'Street 1' });
    expect(out[5]!.contacts).toEqual([{ displayName: 'Bob', vcard: null }]);
    expect(out[6]!.reaction).toEqual({ emoji: '👍', targetId: 'wamid.ours' });
    expect(out[0]!.sender.pushName).toBeNull();
  });
});
