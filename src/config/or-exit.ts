import { ConfigError } from "../config.ts";
import { createLogger } from "../logging.ts";

/**
 * A refused value ends the start before anything is opened or written: one JSON fatal line
 * naming the variable and what it accepts (no stack: nothing went wrong in the code), exit 1.
 * The server and the gateway process start the same way.
 */
export function configOrExit<C>(load: () => C): C {
  try {
    return load();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const [first] = e.problems;
    createLogger().fatal({ variable: first!.variable, accepted: first!.accepted, problems: e.problems }, e.message);
    process.exit(1);
  }
}
