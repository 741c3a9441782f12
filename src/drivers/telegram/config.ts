import { AppError } from "../../errors/app-error.ts";

/** The application credentials every Telegram client sends (my.telegram.org). */
export interface TelegramAppConfig {
  apiId: number;
  apiHash: string;
}

/** Without TELEGRAM_API_ID and TELEGRAM_API_HASH there is no Telegram login: the answer names both. */
export function missingTelegramConfig(): AppError {
  return new AppError("feature_not_implemented", {
    detail: "Telegram needs this service's application credentials: set TELEGRAM_API_ID and TELEGRAM_API_HASH (from my.telegram.org).",
    metadata: { variant: "telegram", missing: "TELEGRAM_API_ID,TELEGRAM_API_HASH" },
  });
}
