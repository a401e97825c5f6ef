/** Accumulates what one input to the state machine produces. */
import type { ElectionMessage, ElectionState, Outgoing } from './messages.ts';
import type { ElectionAlert, ElectionEffect, ElectionOutput, Transition } from './types.ts';

export class OutputBuilder {
  readonly messages: Outgoing[] = [];
  readonly effects: ElectionEffect[] = [];
  readonly transitions: Transition[] = [];

  send(to: number | 'all', message: ElectionMessage): void {
    this.messages.push({ to, message });
  }

  effect(effect: ElectionEffect): void {
    this.effects.push(effect);
  }

  alert(alert: ElectionAlert): void {
    this.effects.push({ type: 'alert', alert });
  }

  alerts(alerts: readonly ElectionAlert[]): void {
    for (const alert of alerts) this.alert(alert);
  }

  finish(state: ElectionState): ElectionOutput {
    return { state, messages: this.messages, effects: this.effects, transitions: this.transitions };
  }
}
