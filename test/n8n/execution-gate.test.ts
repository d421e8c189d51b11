import type { IDataObject } from 'n8n-workflow';
import { ExecutionGate } from '../../nodes/n8n/WhatsAppTrigger/execution-gate';

/** A start function whose executions end when the test says so. */
function controlled() {
  const started: IDataObject[] = [];
  const enders: ((fail?: boolean) => void)[] = [];
  const start = (item: IDataObject) => {
    started.push(item);
    return new Promise<void>((resolve, reject) => enders.push((fail) => (fail ? reject(new Error('execution failed')) : resolve())));
  };
  return { started, start, end: (index: number, fail = false) => enders[index]!(fail) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('ExecutionGate', () => {
  it('starts at most `limit` executions and the held ones in arrival order as slots free', async () => {
    const { started, start, end } = controlled();
    const gate = new ExecutionGate(2, start);
    for (let n = 1; n <= 5; n++) gate.add({ n });
    expect(started).toEqual([{ n: 1 }, { n: 2 }]);
    expect(gate.pending).toBe(5);
    end(1);
    await flush();
    expect(started).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    end(0);
    end(2);
    await flush();
    expect(started.map((item) => item.n)).toEqual([1, 2, 3, 4, 5]);
    expect(gate.pending).toBe(2);
  });

  it('frees the slot of an execution that failed', async () => {
    const { started, start, end } = controlled();
    const gate = new ExecutionGate(1, start);
    gate.add({ n: 1 });
    gate.add({ n: 2 });
    end(0, true);
    await flush();
    expect(started.map((item) => item.n)).toEqual([1, 2]);
    end(1);
    await flush();
    expect(gate.pending).toBe(0);
  });

  it('starts nothing after close, and reports the items it dropped', async () => {
    const { started, start, end } = controlled();
    const gate = new ExecutionGate(1, start);
    gate.add({ n: 1 });
    gate.add({ n: 2 });
    gate.add({ n: 3 });
    expect(gate.close()).toBe(2);
    gate.add({ n: 4 });
    end(0);
    await flush();
    expect(started).toEqual([{ n: 1 }]);
    expect(gate.pending).toBe(0);
  });

  it('keeps its order across the compaction of its queue', async () => {
    const order: number[] = [];
    const gate = new ExecutionGate(1, async (item) => {
      order.push(item.n as number);
    });
    for (let n = 0; n < 3000; n++) gate.add({ n });
    while (gate.pending > 0) await flush();
    expect(order).toEqual(Array.from({ length: 3000 }, (_, n) => n));
  });
});
