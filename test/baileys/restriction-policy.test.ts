import { CONTACT_REFUSED_REASON, LID_REFUSED_REASON, decide463, mayRetryByLid, type Refusal463 } from '../../shared/transport/baileys/restriction-policy';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 20, 9);
const ANA = '14151231234@s.whatsapp.net';
const BEN = '14155550000@s.whatsapp.net';
const CAT = '447700900123@s.whatsapp.net';
const ANA_LID = '207011234567890@lid';

const refused = (recipient: string, at: number, lid: string | null = null, resentByLid = false) => ({ recipient, at, lid, resentByLid });
const PAUSE = (contacts: number) => ({
  kind: 'pause-account',
  reason: `WhatsApp restricted this account from starting new chats: it refused messages to ${contacts} different contacts within an hour (error 463).`,
  messageReason: 'WhatsApp restricted this account from starting new chats (error 463)',
});

describe('the 463 policy', () => {
  it('first resends by LID when Baileys knows it, without counting the 463', () => {
    const history: Refusal463[] = [{ recipient: BEN, at: T - 10 * 60_000 }];
    expect(decide463(history, refused(ANA, T, ANA_LID))).toEqual({ decision: { kind: 'retry-by-lid', jid: ANA_LID }, history });
  });

  it('a first 463 without a LID fails that message only, and is counted', () => {
    expect(decide463([], refused(ANA, T))).toEqual({
      decision: { kind: 'fail-message', reason: CONTACT_REFUSED_REASON },
      history: [{ recipient: ANA, at: T }],
    });
    expect(CONTACT_REFUSED_REASON).toBe('WhatsApp refused to start a chat with this contact (error 463)');
  });

  it('a 463 to the LID resend fails the message, saying so', () => {
    expect(decide463([], refused(ANA, T, null, true)).decision).toEqual({
      kind: 'fail-message',
      reason: 'WhatsApp refused to start a chat with this contact (error 463), also when resent to its LID',
    });
    expect(LID_REFUSED_REASON).toContain('LID');
  });

  it('the same contact refused twice, or ten times, within the hour does not pause the account', () => {
    let history: readonly Refusal463[] = [];
    for (let i = 0; i < 10; i++) {
      const outcome = decide463(history, refused(ANA, T + i * 60_000));
      expect(outcome.decision.kind).toBe('fail-message');
      history = outcome.history;
    }
    expect(history).toHaveLength(10);
  });

  it('a second contact refused within the hour pauses the account, with a sentence counting the contacts', () => {
    const first = decide463([], refused(ANA, T));
    const second = decide463(first.history, refused(BEN, T + HOUR - 1));
    expect(second).toEqual({ decision: PAUSE(2), history: [{ recipient: ANA, at: T }, { recipient: BEN, at: T + HOUR - 1 }] });
    expect(decide463(second.history, refused(CAT, T + HOUR - 1)).decision).toEqual(PAUSE(3));
  });

  it('refusals an hour or more apart are not a repeat: the older one leaves the history', () => {
    const first = decide463([], refused(ANA, T));
    expect(decide463(first.history, refused(BEN, T + HOUR))).toEqual({
      decision: { kind: 'fail-message', reason: CONTACT_REFUSED_REASON },
      history: [{ recipient: BEN, at: T + HOUR }],
    });
  });

  it('a LID resend is not counted, so its contact does not pause the account with another', () => {
    const ben = decide463([], refused(BEN, T));
    const anaResent = decide463(ben.history, refused(ANA, T + 60_000, ANA_LID));
    expect(anaResent.decision.kind).toBe('retry-by-lid');
    expect(anaResent.history).toEqual([{ recipient: BEN, at: T }]);
    // Refused again at its LID, the contact counts: now two contacts within the hour.
    expect(decide463(anaResent.history, refused(ANA, T + 2 * 60_000, null, true)).decision).toEqual(PAUSE(2));
  });

  it('only a send to a phone JID may be resent by LID, once', () => {
    expect(mayRetryByLid(ANA, false)).toBe(true);
    expect(mayRetryByLid(ANA, true)).toBe(false);
    expect(mayRetryByLid(ANA_LID, false)).toBe(false);
    expect(mayRetryByLid('120363001234567890@g.us', false)).toBe(false);
  });
});
