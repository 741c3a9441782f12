import type * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";

type WatchCall = grpc.ServerWritableStream<unknown, unknown>;

/**
 * grpc.health.v1 (grpc-health-check's implementation) whose Watch streams can be ended. A
 * watcher keeps its stream open for as long as it cares, so a server that waits for every
 * call before it stops would wait for watchers until the drain's grace period ran out.
 */
export class DrainableHealth extends HealthImplementation {
  readonly #watches = new Set<WatchCall>();

  override addToServer(server: grpc.Server): void {
    super.addToServer({
      addService: (definition, implementation) => {
        const watch = implementation.watch as (call: WatchCall) => void;
        server.addService(definition, { ...implementation, watch: (call: WatchCall) => this.#track(call, watch) });
      },
    });
  }

  /**
   * Ends every open Watch with OK, after the status it was last sent (NOT_SERVING when
   * draining): the watcher learns the server is going and watches again elsewhere.
   */
  endWatches(): void {
    for (const call of this.#watches) {
      this.#watches.delete(call);
      call.end();
      // The library forgets a watcher only when its call is cancelled: say so, so a later
      // status change is not written to an ended stream.
      call.emit("cancelled", "server draining");
    }
  }

  #track(call: WatchCall, watch: (call: WatchCall) => void): void {
    this.#watches.add(call);
    call.once("cancelled", () => this.#watches.delete(call));
    watch(call);
  }
}
