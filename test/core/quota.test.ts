import { describeShortfall, periodKeyAt, unitsFor } from '../../shared/intake/quota';

describe('quota rules', () => {
  it('charges one unit per WhatsApp message', () => {
    expect(unitsFor({ text: 'hi' })).toBe(1);
    expect(unitsFor({ text: '', file: { url: 'https://x.test/a.pdf', name: 'a.pdf' } })).toBe(1);
    expect(unitsFor({ text: 'hi', file: { url: 'https://x.test/a.pdf', name: 'a.pdf' } })).toBe(2);
  });

  it('keys periods in UTC', () => {
    const now = Date.UTC(2026, 10, 28, 23, 59, 59);
    expect(periodKeyAt('none', now)).toBe('all');
    expect(periodKeyAt('daily', now)).toBe('2026-11-28');
    expect(periodKeyAt('daily', now + 1000)).toBe('2026-11-29');
    expect(periodKeyAt('monthly', now)).toBe('2026-11');
  });

  it('states what is available and what is needed', () => {
    expect(describeShortfall(1, 2)).toBe('Not enough messaging quota: 1 unit is available and this request needs 2; nothing was queued.');
    expect(describeShortfall(0, 1)).toBe('Not enough messaging quota: 0 units are available and this request needs 1; nothing was queued.');
  });
});
