import { Api } from "telegram";
import { AppError } from "../../errors/app-error.ts";
import type { AuthState } from "../../domain/connectors/interactive.ts";

/** Who logged in: user id, username (else phone) as the handle, first and last name; the phone kept in details. */
export function telegramIdentity(user: unknown): Pick<AuthState, "identity" | "details"> {
  if (!(user instanceof Api.User)) throw new AppError("provider_error", { detail: "Telegram authorized the login without naming the user." });
  const name = [user.firstName, user.lastName].filter(Boolean).join(" ");
  const phone = user.phone ? `+${user.phone.replace(/^\+/, "")}` : undefined;
  return {
    identity: {
      providerUserId: user.id.toString(),
      ...(user.username ? { handle: user.username } : phone ? { handle: phone } : {}),
      ...(name ? { displayName: name } : {}),
    },
    ...(phone ? { details: { phone } } : {}),
  };
}
