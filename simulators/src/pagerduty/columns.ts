/**
 * Typed-array column stores: the benchmark holds 100,000 incidents with about
 * six log entries each, so rows are numbers in columns, rendered as API JSON
 * only when a request asks for them.
 */

type TypedArray = Float64Array | Int32Array | Uint16Array | Uint8Array | Int8Array;

export function resized<T extends TypedArray>(array: T, capacity: number): T {
  const next = new (array.constructor as new (length: number) => T)(capacity);
  next.set(array as never);
  return next;
}

/** Incident rows, one typed-array column per field. */
export class IncidentRows {
  count = 0;
  capacity: number;
  createdAt: Float64Array;
  updatedAt: Float64Array;
  statusChangedAt: Float64Array;
  statusChangedBy: Int32Array;
  resolvedAt: Float64Array;
  firstAckAt: Float64Array;
  ackAt: Float64Array;
  ackBy: Int32Array;
  assignee: Int32Array;
  assignedAt: Float64Array;
  status: Uint8Array;
  priority: Int8Array;
  urgency: Uint8Array;
  service: Uint16Array;
  titleKind: Uint8Array;
  titleHost: Uint8Array;
  alerts: Uint8Array;
  mergedInto: Int32Array;
  unackCount: Uint16Array;
  escalated: Uint8Array;
  idKey: Int32Array;
  firstEntry: Int32Array;
  lastEntry: Int32Array;

  constructor(capacity: number) {
    this.capacity = Math.max(16, capacity);
    const c = this.capacity;
    this.createdAt = new Float64Array(c);
    this.updatedAt = new Float64Array(c);
    this.statusChangedAt = new Float64Array(c);
    this.statusChangedBy = new Int32Array(c);
    this.resolvedAt = new Float64Array(c);
    this.firstAckAt = new Float64Array(c);
    this.ackAt = new Float64Array(c);
    this.ackBy = new Int32Array(c);
    this.assignee = new Int32Array(c);
    this.assignedAt = new Float64Array(c);
    this.status = new Uint8Array(c);
    this.priority = new Int8Array(c);
    this.urgency = new Uint8Array(c);
    this.service = new Uint16Array(c);
    this.titleKind = new Uint8Array(c);
    this.titleHost = new Uint8Array(c);
    this.alerts = new Uint8Array(c);
    this.mergedInto = new Int32Array(c);
    this.unackCount = new Uint16Array(c);
    this.escalated = new Uint8Array(c);
    this.idKey = new Int32Array(c);
    this.firstEntry = new Int32Array(c);
    this.lastEntry = new Int32Array(c);
  }

  grow(): void {
    const c = this.capacity * 2;
    this.capacity = c;
    this.createdAt = resized(this.createdAt, c);
    this.updatedAt = resized(this.updatedAt, c);
    this.statusChangedAt = resized(this.statusChangedAt, c);
    this.statusChangedBy = resized(this.statusChangedBy, c);
    this.resolvedAt = resized(this.resolvedAt, c);
    this.firstAckAt = resized(this.firstAckAt, c);
    this.ackAt = resized(this.ackAt, c);
    this.ackBy = resized(this.ackBy, c);
    this.assignee = resized(this.assignee, c);
    this.assignedAt = resized(this.assignedAt, c);
    this.status = resized(this.status, c);
    this.priority = resized(this.priority, c);
    this.urgency = resized(this.urgency, c);
    this.service = resized(this.service, c);
    this.titleKind = resized(this.titleKind, c);
    this.titleHost = resized(this.titleHost, c);
    this.alerts = resized(this.alerts, c);
    this.mergedInto = resized(this.mergedInto, c);
    this.unackCount = resized(this.unackCount, c);
    this.escalated = resized(this.escalated, c);
    this.idKey = resized(this.idKey, c);
    this.firstEntry = resized(this.firstEntry, c);
    this.lastEntry = resized(this.lastEntry, c);
  }
}

/** Log entry rows; an incident's entries form a linked list through `next`. */
export class LogEntryRows {
  count = 0;
  capacity: number;
  incident: Int32Array;
  type: Uint8Array;
  createdAt: Float64Array;
  agent: Int32Array;
  channel: Uint8Array;
  /** Type-specific: a user, a note, a priority change, a merge target... */
  detail: Int32Array;
  next: Int32Array;
  idKey: Int32Array;

  constructor(capacity: number) {
    this.capacity = Math.max(64, capacity);
    const c = this.capacity;
    this.incident = new Int32Array(c);
    this.type = new Uint8Array(c);
    this.createdAt = new Float64Array(c);
    this.agent = new Int32Array(c);
    this.channel = new Uint8Array(c);
    this.detail = new Int32Array(c);
    this.next = new Int32Array(c);
    this.idKey = new Int32Array(c);
  }

  grow(): void {
    const c = this.capacity * 2;
    this.capacity = c;
    this.incident = resized(this.incident, c);
    this.type = resized(this.type, c);
    this.createdAt = resized(this.createdAt, c);
    this.agent = resized(this.agent, c);
    this.channel = resized(this.channel, c);
    this.detail = resized(this.detail, c);
    this.next = resized(this.next, c);
    this.idKey = resized(this.idKey, c);
  }
}

/** A sorted list of row numbers that grows by insertion. */
export class SortedRows {
  rows: Int32Array;
  count = 0;

  constructor(capacity: number) {
    this.rows = new Int32Array(Math.max(16, capacity));
  }

  insert(row: number, compare: (a: number, b: number) => number): void {
    if (this.count === this.rows.length) {
      this.rows = resized(this.rows, this.rows.length * 2);
    }
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compare(this.rows[middle]!, row) <= 0) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    this.rows.copyWithin(low + 1, low, this.count);
    this.rows[low] = row;
    this.count++;
  }

  /** First position whose time is >= ms. */
  lowerBound(times: Float64Array, ms: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (times[this.rows[middle]!]! < ms) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }
}
