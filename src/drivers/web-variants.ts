/** The variants the web drivers (web-drivers.ts) serve, known without loading their code. */
export const WEB_VARIANTS = ["linkedinCookie", "linkedinBasic", "instagramCookie", "instagramBasic", "messengerSession", "messengerBasic", "twitter"] as const;

export type WebVariant = (typeof WEB_VARIANTS)[number];
