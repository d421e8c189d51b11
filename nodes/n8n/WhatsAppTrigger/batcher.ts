import type { IDataObject } from 'n8n-workflow';

/**
 * Collects accepted messages and hands them over once per window, so a busy webhook starts one workflow
 * execution per window instead of one per call.
 */
export class WindowBatcher {
  private items: IDataObject[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly windowMs: number,
    private readonly flush: (items: IDataObject[]) => void,
  ) {}

  add(item: IDataObject): void {
    this.items.push(item);
    this.timer ??= setTimeout(() => this.flushNow(), this.windowMs);
  }

  /** Hands over what is waiting now (also on close, so nothing accepted is left unemitted). */
  flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.flush(items);
  }
}
