/** The result of `alerts.test` (alerts/engine.ts sendTest). */

export interface AlertTestResult {
  target: string;
  eventId: string;
  /** The target answered 2xx. */
  ok: boolean;
  /** Its HTTP status, if it answered. */
  status?: number;
  error?: string;
}
