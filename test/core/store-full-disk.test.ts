import { join } from 'node:path';
import { SqliteStore } from '../../shared/store/sqlite';
import { attempt, textMessage } from '../support/messages';
import { FaultyFs } from '../support/faulty-fs';

/** The SQLite store on a real disk that fills up: background work must not throw where no one catches it. */
describe('SQLite store on a full disk', () => {
  let disk: FaultyFs;
  beforeAll(() => {
    disk = FaultyFs.mount(16 * 1024 * 1024);
  });
  afterAll(() => disk?.unmount());

  it("keeps a request accepted alone when the intake's timed drain meets a full disk, and moves it once there is room", async () => {
    const store = new SqliteStore({ path: join(disk.path, 'drain.sqlite') });
    try {
      const message = textMessage();
      const outcome = await store.accept({ messages: [message], units: 1, quota: { period: 'none', allowance: 10 }, periodKey: 'all', attempt: attempt(), now: Date.now() });
      expect(outcome).toEqual({ accepted: true });
      disk.fill();
      // The drain runs on a timer ~20 ms after the accept; on a full disk it used to throw out of the timer.
      await new Promise((resolve) => setTimeout(resolve, 200));
      disk.free();
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      expect((await store.outbox.get(message.id))?.status).toBe('queued');
      expect(await store.outbox.countWaiting()).toBe(1);
    } finally {
      disk.free();
      await store.close();
    }
  });
});
