import { newMessageId } from '../../shared/outbox/message-id';

describe('message ids', () => {
  test('ids made in one millisecond never repeat', () => {
    const ids = new Set(Array.from({ length: 100_000 }, () => newMessageId(1_750_000_000_000)));
    expect(ids.size).toBe(100_000);
  });

  test('keep the WhatsApp Web shape and increase within a millisecond', () => {
    const [a, b] = [newMessageId(1_750_000_000_001), newMessageId(1_750_000_000_001)];
    expect(a).toMatch(/^3EB0[0-9A-F]{18}$/);
    expect(b > a || b.endsWith('0000000')).toBe(true);
  });
});
