// The pool's waiting line: four priorities, FIFO within each, with priority raises.

/** What the user is looking at goes first; background batch work goes last. */
export type Priority = 'user' | 'visible' | 'prefetch' | 'background';

export const PRIORITIES: readonly Priority[] = ['user', 'visible', 'prefetch', 'background'];

export function rank(p: Priority): number {
  const i = PRIORITIES.indexOf(p);
  if (i < 0) throw new TypeError(`priority must be one of ${PRIORITIES.join(', ')}, got ${String(p)}`);
  return i;
}

export class PriorityQueue<T extends { priority: Priority }> {
  private readonly lanes: T[][] = PRIORITIES.map(() => []);

  get size(): number {
    return this.lanes.reduce((n, lane) => n + lane.length, 0);
  }

  push(item: T): void {
    this.lanes[rank(item.priority)].push(item);
  }

  /** The first item, in priority then arrival order, that `eligible` accepts; removed. */
  take(eligible: (item: T) => boolean = () => true): T | undefined {
    for (const lane of this.lanes) {
      const i = lane.findIndex(eligible);
      if (i >= 0) return lane.splice(i, 1)[0];
    }
    return undefined;
  }

  remove(item: T): boolean {
    const lane = this.lanes[rank(item.priority)];
    const i = lane.indexOf(item);
    if (i < 0) return false;
    lane.splice(i, 1);
    return true;
  }

  /** Moves a queued item to the end of a higher lane (a raise never lowers). */
  raise(item: T, to: Priority): boolean {
    if (rank(to) >= rank(item.priority) || !this.remove(item)) return false;
    item.priority = to;
    this.push(item);
    return true;
  }
}
