import { FINAL_AUTH_STATUSES, type AuthState } from "../domain/connectors/interactive.ts";

/**
 * The state of one driver login, kept in one place: every change goes through set(), which
 * reports it, and nothing changes once a final state (CONNECTED, FAILED, CANCELED, EXPIRED) is
 * reached, so a late event from a closing socket cannot undo an outcome.
 */
export class LoginState {
  private state: AuthState = { status: "PENDING", version: 0 };
  private readonly report: (state: AuthState) => void;

  constructor(report: (state: AuthState) => void) {
    this.report = report;
  }

  current(): AuthState {
    return this.state;
  }

  get final(): boolean {
    return FINAL_AUTH_STATUSES.has(this.state.status);
  }

  /** Moves to `next` and reports it; ignored (false) once final. */
  set(next: Omit<AuthState, "version">): boolean {
    if (this.final) return false;
    this.state = { ...next, version: this.state.version + 1 };
    this.report(this.state);
    return true;
  }
}
